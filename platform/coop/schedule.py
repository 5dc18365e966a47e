"""Every periodic job of the platform in one table (Celery beat).

Each app's jobs are named ``<app>.jobs.<name>``; an app adds its timers here
(``celery.schedules.crontab`` for daily ones).
"""

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "platform-heartbeat": {"task": "core.jobs.heartbeat", "schedule": 30.0},
    "governance-open-due-votes": {"task": "governance.jobs.open_due_votes", "schedule": 60.0},
    "governance-close-due-votes": {"task": "governance.jobs.close_due_votes", "schedule": 60.0},
    "governance-activate-due-proposals": {"task": "governance.jobs.activate_due_proposals", "schedule": 60.0},
    "governance-pay-dividends": {"task": "governance.jobs.pay_dividends", "schedule": 300.0},
    "tasks-expire-assignments": {"task": "tasks.jobs.expire_assignments", "schedule": 30.0},
    "tasks-dispatch-draw-due-waves": {"task": "tasks.jobs.dispatch_draw_due_waves", "schedule": 15.0},
    "tasks-auto-approve": {"task": "tasks.jobs.auto_approve", "schedule": 60.0},
    "tasks-expire-batches": {"task": "tasks.jobs.expire_batches", "schedule": 60.0},
    "tasks-finalise-rejections": {"task": "tasks.jobs.finalise_rejections", "schedule": 300.0},
    "tasks-fair-pay-reviews": {"task": "tasks.jobs.fair_pay_reviews", "schedule": 600.0},
    "tasks-grow-short-clocks": {"task": "tasks.jobs.grow_short_clocks", "schedule": 300.0},
    "tasks-data-reports-overdue": {"task": "tasks.jobs.data_reports_overdue", "schedule": 3600.0},
    "tasks-refresh-requester-pay": {"task": "tasks.jobs.refresh_requester_pay", "schedule": 3600.0},
    "tasks-activity-prune": {"task": "tasks.jobs.activity_prune", "schedule": crontab(hour=0, minute=20)},
    "disputes-run-deadlines": {"task": "disputes.jobs.run_deadlines", "schedule": 60.0},
    "disputes-execute-closed-cases": {"task": "disputes.jobs.execute_closed_cases", "schedule": 60.0},
    "disputes-pay-juror-fees": {"task": "disputes.jobs.pay_juror_fees", "schedule": 60.0},
    "disputes-scan-mass-rejections": {"task": "disputes.jobs.scan_mass_rejections", "schedule": 300.0},
    "payments-webhook-events-retry": {"task": "payments.jobs.webhook_events_retry", "schedule": 120.0},
    "payments-withdrawals-resume": {"task": "payments.jobs.withdrawals_resume", "schedule": 300.0},
    "payments-stripe-fees-book-due": {"task": "payments.jobs.stripe_fees_book_due", "schedule": 600.0},
    "payments-card-funds-release": {"task": "payments.jobs.card_funds_release", "schedule": 3600.0},
    "ledger-verify-daily": {"task": "ledger.jobs.verify", "schedule": crontab(hour=2, minute=0)},
    "payments-reconcile-daily": {"task": "payments.jobs.reconcile_daily", "schedule": crontab(hour=2, minute=15)},
    "payouts-run-daily": {"task": "payouts.jobs.run_daily", "schedule": crontab(hour=6, minute=0)},
    "payouts-run-weekly": {"task": "payouts.jobs.run_weekly", "schedule": crontab(hour=6, minute=30, day_of_week=1)},
    "payouts-resume": {"task": "payouts.jobs.payouts_resume", "schedule": 300.0},
    "payouts-reversals-resume": {"task": "payouts.jobs.reversals_resume", "schedule": 600.0},
    "notifications-reminders": {"task": "notifications.jobs.send_reminders", "schedule": 300.0},
    "notifications-resend-pending": {"task": "notifications.jobs.resend_pending", "schedule": 600.0},
    "notifications-digests": {"task": "notifications.jobs.send_digests", "schedule": crontab(minute=5)},
    "payouts-provider-reconcile": {"task": "payouts.jobs.provider_payouts_reconcile", "schedule": 3600.0},
    "mturk-collect-notifications": {"task": "mturk.jobs.collect_notifications", "schedule": 15.0},
    "webhooks-collect": {"task": "webhooks.jobs.collect", "schedule": 15.0},
}
