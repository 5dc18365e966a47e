"""The organisation's sandbox money (issue 24.6): the one write a person makes on it
directly, a top-up of play money. Everything else moves it through ``tasks.books`` as the
sandbox batches' work goes on."""

from accounts.models import Organisation, User
from tasks import play
from tasks.models import PlayTransfer
from tasks.services.common import _require_staff


def sandbox_top_up(*, organisation: Organisation, actor: User, amount: int, token: str) -> PlayTransfer:
    """Adds ``amount`` of play money to the organisation's sandbox for one of its staff (the
    caller checked the ``publish`` capability). Once per ``token``; refusals as
    ``tasks.play.play_top_up``. Never touches the ledger."""
    _require_staff(actor, organisation)
    return play.play_top_up(organisation=organisation, actor=actor, amount=amount, token=token)
