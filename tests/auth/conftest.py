import pytest

from portal.extensions import db
from tests import factories


@pytest.fixture
def setup(clean_app):
    """Run factory calls in a short-lived app context, so test clients behave like separate
    browsers (requests made inside a long-lived app context would share `g`, and the login with it)."""
    def run(fn):
        with clean_app.app_context():
            result = fn(factories.Factory(clean_app))
            db.session.remove()
            return result
    return run
