"""Text that the database can hold, for every feature."""


def storable(text: str) -> bool:
    """Text a database column can hold: no NUL byte, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_query(value, limit: int = 100) -> str:
    """A search string from a query parameter: what cannot be stored is dropped, length bounded."""
    if not isinstance(value, str):
        return ""
    value = value.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return value.strip()[:limit]
