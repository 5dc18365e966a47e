from tests.fakes.fixtures import fake_stripe  # noqa: F401
