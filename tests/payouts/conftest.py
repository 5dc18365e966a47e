from tests.fakes.fixtures import fake_stripe, fake_wise  # noqa: F401
