from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from frontend.forms import PasswordResetInLanguageForm
from frontend.views import (
    alerts,
    data_promises,
    disputes,
    dividends,
    drafts,
    inbox,
    jobs_health,
    language,
    member,
    operations,
    payouts,
    public,
    quality,
    requester,
    requester_tools,
    review_files,
    sandbox,
    security,
    staff,
    statements,
    surveys,
    team,
    treasurer,
    worker,
)
from frontend.views import webhooks as webhook_views

auth_patterns = [
    path("accounts/register/", public.register, name="register"),
    path("payouts/coverage/", public.payout_coverage, name="payout_coverage"),
    path("accounts/login/", public.LoginView.as_view(), name="login"),
    path("accounts/login/verify/", public.login_verify, name="login_verify"),
    path("accounts/passkey/options/", public.passkey_options, name="passkey_options"),
    path("accounts/passkey/verify/", public.passkey_verify, name="passkey_verify"),
    path("account/security/", security.security, name="account_security"),
    path("account/reauthenticate/", security.reauthenticate, name="account_reauthenticate"),
    path("account/security/passkeys/options/", security.passkey_registration_options, name="passkey_add_options"),
    path("account/security/passkeys/add/", security.passkey_add, name="passkey_add"),
    path("account/security/passkeys/<int:passkey_id>/remove/", security.passkey_remove, name="passkey_remove"),
    path("account/data/", security.my_data, name="account_data"),
    path("account/data/download/", security.my_data_download, name="account_data_download"),
    path("account/data/erase/", security.my_data_erase, name="account_data_erase"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The site's own pages, named outside registration/ where the admin's templates of the
    # same names (installed first) won and showed "Django administration" (issue 25.6).
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="frontend/account/password_reset_form.html",
            form_class=PasswordResetInLanguageForm,
            subject_template_name="frontend/account/password_reset_subject.txt",
            email_template_name="frontend/account/password_reset_email.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="frontend/account/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="frontend/account/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="frontend/account/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]

worker_patterns = [
    path("work/", worker.feed, name="worker_feed"),
    path("work/welcome/", worker.introduction, name="worker_introduction"),
    path("work/batches/<int:batch_id>/", worker.batch_preview, name="worker_batch"),
    path("work/batches/<int:batch_id>/accept/", worker.batch_accept, name="worker_accept"),
    path("work/batches/<int:batch_id>/preview-frame/", surveys.batch_preview_frame, name="worker_batch_preview_frame"),
    path(
        "work/assignments/<int:assignment_id>/reuse-opt-out/",
        data_promises.reuse_opt_out,
        name="worker_reuse_opt_out",
    ),
    path("work/batches/<int:batch_id>/apply/", worker.batch_apply, name="worker_apply"),
    path("work/draws/", worker.my_draws, name="worker_draws"),
    path("work/assignments/", worker.assignments, name="worker_assignments"),
    path("work/assignments/<int:assignment_id>/", worker.assignment_page, name="worker_assignment"),
    path("work/assignments/<int:assignment_id>/frame/", worker.assignment_frame, name="worker_assignment_frame"),
    path("work/assignments/<int:assignment_id>/submit/", worker.assignment_submit, name="worker_assignment_submit"),
    path("work/assignments/<int:assignment_id>/return/", worker.assignment_return, name="worker_assignment_return"),
    path(
        "work/assignments/<int:assignment_id>/completion-code/",
        surveys.assignment_completion_code,
        name="worker_assignment_completion_code",
    ),
    path("work/earnings/", worker.earnings, name="worker_earnings"),
    path("work/earnings/statement.csv", worker.statement_download, name="worker_statement"),
    path("work/profile/", worker.profile, name="worker_profile"),
    path("work/payouts/", payouts.worker_payouts, name="worker_payouts"),
    path("work/payouts/request/", payouts.payout_request, name="worker_payout_request"),
    path("work/payouts/<int:payout_id>/cancel/", payouts.payout_cancel, name="worker_payout_cancel"),
    path("work/payouts/stripe/", payouts.stripe_onboarding, name="worker_stripe_onboarding"),
    path("work/payouts/stripe-global/", payouts.stripe_global_onboarding, name="worker_stripe_global_onboarding"),
    path("work/payouts/estimate/", payouts.payout_estimate, name="worker_payout_estimate"),
    path("work/assignments/<int:assignment_id>/dispute/", disputes.dispute_open, name="dispute_open"),
    path("coop/join/", worker.membership_join, name="membership_join"),
    path("coop/juror/", worker.juror_opt_in, name="juror_opt_in"),
    path("work/suspension-appeal/", worker.suspension_appeal, name="suspension_appeal"),
    path("requesters/<slug:slug>/", worker.requester_public, name="requester_public"),
]

requester_patterns = [
    path("org/new/", requester.organisation_new, name="org_new"),
    path("org/<slug:slug>/", requester.dashboard, name="org_dashboard"),
    path("org/<slug:slug>/profile/", requester.organisation_profile, name="org_profile"),
    path("org/<slug:slug>/keys/", requester.api_keys, name="org_keys"),
    path("org/<slug:slug>/keys/<int:key_id>/revoke/", requester.api_key_revoke, name="org_key_revoke"),
    path("org/<slug:slug>/webhooks/", webhook_views.webhooks, name="org_webhooks"),
    path("org/<slug:slug>/webhooks/<int:endpoint_id>/remove/", webhook_views.webhook_remove, name="org_webhook_remove"),
    path("org/<slug:slug>/verification/", team.verification_page, name="org_verification"),
    path("org/<slug:slug>/team/", team.team_page, name="org_team"),
    path("org/<slug:slug>/team/<int:user_id>/<str:action>/", team.team_member_action, name="org_team_member"),
    path("invitations/<str:token>/", team.invitation_page, name="invitation"),
    path("org/<slug:slug>/funds/", requester.funds, name="org_funds"),
    path("org/<slug:slug>/blocks/", requester_tools.blocks, name="org_blocks"),
    path("org/<slug:slug>/blocks/<str:pseudonym>/remove/", requester_tools.block_remove, name="org_block_remove"),
    path("org/<slug:slug>/withdrawals/", requester_tools.withdrawals, name="org_withdrawals"),
    path("org/<slug:slug>/notices/", requester_tools.notices, name="org_notices"),
    path("org/<slug:slug>/statements/", statements.statements_page, name="org_statements"),
    path(
        "org/<slug:slug>/statements/<int:year>/<int:month>/<str:file_format>/",
        statements.statement_download,
        name="org_statement",
    ),
    path(
        "org/<slug:slug>/funds/<int:deposit_id>/receipt/<str:file_format>/",
        statements.receipt_download,
        name="org_receipt",
    ),
    path("org/<slug:slug>/funds/<int:deposit_id>/", requester.deposit_page, name="org_deposit"),
    path("org/<slug:slug>/batches/new/", requester.batch_new, name="org_batch_new"),
    path("org/<slug:slug>/sandbox/", sandbox.sandbox_page, name="org_sandbox"),
    path("org/<slug:slug>/batches/preview/", requester.batch_preview, name="org_batch_preview"),
    path("org/<slug:slug>/batches/<int:batch_id>/", requester.batch_page, name="org_batch"),
    path("org/<slug:slug>/batches/<int:batch_id>/input/", requester.batch_input, name="org_batch_input"),
    path("org/<slug:slug>/batches/<int:batch_id>/edit/", drafts.batch_edit, name="org_batch_edit"),
    path("org/<slug:slug>/batches/<int:batch_id>/delete/", drafts.batch_delete, name="org_batch_delete"),
    path("org/<slug:slug>/batches/<int:batch_id>/clone/", drafts.batch_clone, name="org_batch_clone"),
    path("org/<slug:slug>/templates/", drafts.template_library, name="org_templates"),
    path("org/<slug:slug>/templates/<int:template_id>/delete/", drafts.template_delete, name="org_template_delete"),
    path("org/<slug:slug>/templates/<int:template_id>/edit/", drafts.template_edit, name="org_template_edit"),
    path("org/<slug:slug>/settings/", drafts.organisation_settings, name="org_settings"),
    path("org/<slug:slug>/batches/<int:batch_id>/review/", requester.review, name="org_review"),
    path("org/<slug:slug>/batches/<int:batch_id>/grow/", requester_tools.batch_grow, name="org_batch_grow"),
    path("org/<slug:slug>/batches/<int:batch_id>/review/file/", review_files.review_file_page, name="org_review_file"),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/review/file.csv",
        review_files.review_file_download,
        name="org_review_file_download",
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/review/table/", review_files.submissions_table, name="org_review_table"
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/review/approve-selected/",
        requester.review_bulk_approve,
        name="org_review_bulk",
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/review/<int:assignment_id>/<str:decision>/",
        requester.review_decide,
        name="org_review_decide",
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/export/<str:file_format>/",
        requester.export,
        name="org_export",
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/data-report/",
        data_promises.data_report,
        name="org_data_report",
    ),
    # Last: publish, pause, resume, cancel (the named sub-pages above take precedence).
    path("org/<slug:slug>/batches/<int:batch_id>/<str:action>/", requester.batch_action, name="org_batch_action"),
]

member_patterns = [
    path("coop/proposals/", member.proposals, name="proposals"),
    path("coop/proposals/<int:proposal_id>/", member.proposal_page, name="proposal"),
    path("coop/proposals/<int:proposal_id>/comment/", member.proposal_comment, name="proposal_comment"),
    path("coop/proposals/<int:proposal_id>/vote/", member.proposal_vote, name="proposal_vote"),
    path("coop/proposals/<int:proposal_id>/<str:action>/", member.proposal_action, name="proposal_action"),
    path("coop/dividends/", dividends.dividends, name="dividends"),
    path("rules/", member.rules, name="rules"),
    path("rules/<slug:key>/", member.rule_page, name="rule"),
]

treasurer_patterns = [
    path("treasury/", treasurer.treasury, name="treasury"),
    path("treasury/deposits/<int:deposit_id>/confirm/", treasurer.deposit_confirm, name="treasury_deposit_confirm"),
    path("treasury/payouts/", payouts.treasury_payouts, name="treasury_payouts"),
    path("treasury/dividends/", dividends.treasury_dividends, name="treasury_dividends"),
    path("treasury/payouts/new/", payouts.sepa_batch_create, name="treasury_sepa_create"),
    path("treasury/payouts/<int:batch_id>/", payouts.sepa_batch_page, name="treasury_sepa_batch"),
    path("treasury/payouts/<int:batch_id>/file.xml", payouts.sepa_batch_download, name="treasury_sepa_download"),
    path(
        "treasury/payouts/<int:batch_id>/payments/<int:payout_id>/<str:action>/",
        payouts.sepa_payment_action,
        name="treasury_sepa_payment",
    ),
    path("treasury/payouts/<int:batch_id>/<str:action>/", payouts.sepa_batch_action, name="treasury_sepa_action"),
]

staff_patterns = [
    path("staff/", staff.console, name="staff_console"),
    path("staff/verifications/", staff.verification_queue, name="staff_verifications"),
    path("staff/verifications/<int:verification_id>/", staff.verification_detail, name="staff_verification"),
    path(
        "staff/verifications/<int:verification_id>/documents/<int:document_id>/",
        staff.verification_document,
        name="staff_verification_document",
    ),
    path(
        "staff/verifications/<int:verification_id>/<str:action>/",
        staff.verification_decide,
        name="staff_verification_decide",
    ),
    path("staff/organisations/", staff.organisations, name="staff_organisations"),
    path("staff/people/", staff.people, name="staff_people"),
    path("staff/people/<int:person_id>/<str:action>/", staff.person_action, name="staff_person_action"),
    path("staff/audit/", staff.audit, name="staff_audit"),
    path("coop/staff/", staff.staff_public, name="staff_public"),
]

case_patterns = [
    path("cases/", disputes.cases, name="cases"),
    path("cases/<int:case_id>/", disputes.case_page, name="case"),
    path("cases/<int:case_id>/<str:action>/", disputes.case_action, name="case_action"),
]

inbox_patterns = [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read-all/", inbox.inbox_read_all, name="inbox_read_all"),
    path("inbox/settings/", inbox.notification_settings, name="notification_settings"),
    path("inbox/mail-problem/seen/", inbox.mail_problem_seen, name="mail_problem_seen"),
    path("inbox/<int:notification_id>/", inbox.inbox_open, name="inbox_open"),
    path("inbox/<int:notification_id>/read/", inbox.inbox_read, name="inbox_read"),
    path("notifications/unsubscribe/<str:token>/", inbox.unsubscribe, name="notification_unsubscribe"),
    path("push-worker.js", inbox.push_worker, name="push_worker"),
    # The words the scripts write (djangojs catalogs), in the reader's language: a script file
    # from the site itself, so the Content-Security-Policy's script-src 'self' allows it.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(domain="djangojs", packages=["frontend"]),
        name="javascript_catalog",
    ),
    path("work/searches/", alerts.saved_searches, name="saved_searches"),
    path("work/searches/<int:search_id>/delete/", alerts.saved_search_delete, name="saved_search_delete"),
    path("work/assignments/<int:assignment_id>/message/", alerts.assignment_message, name="assignment_message"),
    path("messages/", alerts.threads, name="task_threads"),
    path("messages/<int:thread_id>/", alerts.thread_page, name="task_thread"),
    path("messages/<int:thread_id>/share/", alerts.thread_share, name="task_thread_share"),
]

quality_patterns = [
    path("org/<slug:slug>/qualifications/", quality.org_qualifications, name="org_qualifications"),
    path(
        "org/<slug:slug>/qualifications/<int:qualification_id>/",
        quality.org_qualification,
        name="org_qualification",
    ),
    path(
        "org/<slug:slug>/qualifications/<int:qualification_id>/revoke/<str:pseudonym>/",
        quality.org_qualification_revoke,
        name="org_qualification_revoke",
    ),
    path(
        "org/<slug:slug>/batches/<int:batch_id>/review/control-rejections/",
        quality.batch_control_reject,
        name="org_batch_control_reject",
    ),
    path("work/qualifications/<int:qualification_id>/", quality.worker_qualification, name="worker_qualification"),
    path("work/scores/", quality.worker_scores, name="worker_scores"),
]

urlpatterns = [
    path("", public.home, name="home"),
    path("health/", public.health, name="health"),
    path("language/", language.language_set, name="set_language"),
    path("glossary/", public.glossary, name="glossary"),
    path("staff/jobs/", jobs_health.jobs_page, name="staff_jobs"),
    path("staff/jobs/<int:failure_id>/release/", jobs_health.job_item_release_page, name="staff_job_item_release"),
    path("operations/<str:operation_id>/", operations.operation_page, name="operation"),
    path("operations/<str:operation_id>/file/", operations.operation_download, name="operation_download"),
    *auth_patterns,
    *worker_patterns,
    *requester_patterns,
    *member_patterns,
    *treasurer_patterns,
    *staff_patterns,
    *case_patterns,
    *inbox_patterns,
    *quality_patterns,
]
