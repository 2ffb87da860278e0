from types import SimpleNamespace


def plain(org):
    """The values a test needs, detached from the session: a failed request rolls the shared test
    session back, and on PostgreSQL an expired row cannot be reloaded outside its tenant."""
    return SimpleNamespace(id=org.id, code=org.code, name=org.name)
