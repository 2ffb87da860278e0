"""What the features' WTForms share."""
try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs) -> list:
    """Select options from (value, label) pairs, in the form the installed WTForms prefers."""
    return [SelectChoice(value=str(v), label=str(label)) if SelectChoice else (str(v), str(label))
            for v, label in pairs]
