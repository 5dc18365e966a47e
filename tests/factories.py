"""factory_boy factories for identities. Apps add theirs in tests/<app>/factories.py."""

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from accounts import services
from accounts.models import Membership, Organisation, User, WorkerProfile
from accounts.reauthentication import FreshSignIn

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def profile(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            WorkerProfile.objects.get_or_create(user=self)
            self.save()


class MemberFactory(UserFactory):
    @factory.post_generation
    def membership(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            Membership.objects.create(
                user=self,
                joined_at=kwargs.get("joined_at", timezone.now() - timedelta(days=365)),
                juror_opt_in=kwargs.get("juror_opt_in", True),
            )


class OrganisationFactory(factory.Factory):
    """A verified organisation created through the service, with an owner."""

    class Meta:
        model = Organisation

    display_name = factory.Sequence(lambda n: f"Lab {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.display_name} GmbH")
    country = "DE"
    contact_email = factory.LazyAttribute(lambda o: f"contact@{o.display_name.replace(' ', '').lower()}.example")
    owner = factory.SubFactory(UserFactory)
    verified = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Organisation:
        verified = kwargs.pop("verified")
        organisation = services.organisation_create(**kwargs)
        if verified:
            staff = UserFactory(is_staff=True)
            organisation = services.organisation_verify(
                organisation=organisation, verified_by=staff, legal_name=organisation.legal_name
            )
        return organisation

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Organisation:
        raise NotImplementedError("Organisations are only created through the service.")


def staff_member(role: str, **kwargs: Any) -> User:
    """A person holding the co-op staff ``role`` (verifier, treasurer, moderator), appointed
    as a new installation's bootstrap does."""
    from accounts.appointments import staff_role_grant
    from accounts.models import StaffAppointment

    user = UserFactory(**kwargs)
    staff_role_grant(user=user, role=role, source=StaffAppointment.Source.BOOTSTRAP)
    return user


def signed_in_now(user: User) -> FreshSignIn:
    """The proof a page or API request gives when ``user`` has just signed in (with their
    second factor when they have one), for tests that call the protected services."""
    from django.utils import timezone

    from accounts.two_factor import two_factor_enabled

    return FreshSignIn(user_id=user.pk, at=timezone.now(), second_factor=two_factor_enabled(user))
