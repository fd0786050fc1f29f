"""Account numbers belong to the hospital.

They arrive from systems we do not control (`4000776`, `HAR123`, `24000006`): an opaque string,
checked only for what would break a record downstream (empty, too long, control characters or
surrounding blanks), never for a checksum or a format of our own. The synthetic hospital numbers its
accounts with a Luhn check digit (`make_account_id`); that is a property of the synthetic hospital,
not a rule of the pipeline.
"""
from __future__ import annotations

MAX_LENGTH = 50  # REF*EA on the 837 carries at most 50 characters


def account_id_fault(account_id: str) -> str | None:
    """Why this account number cannot be used, without echoing it (it is PHI); None when usable."""
    if not account_id or not account_id.strip():
        return "account id is empty"
    if len(account_id) > MAX_LENGTH:
        return f"account id is longer than {MAX_LENGTH} characters"
    if account_id != account_id.strip():
        return "account id has leading or trailing blanks"
    if not account_id.isprintable():
        return "account id has a control or non-printable character"
    return None


def is_valid_account_id(account_id: str) -> bool:
    return account_id_fault(account_id) is None


def check_digit(digits: str) -> str:
    """The Luhn (mod-10) check digit of a digit string (also the NPI's, over 80840 + 9 digits)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_account_id(number: int, prefix: str = "A") -> str:
    """The synthetic hospital's account number: a letter, nine digits and a Luhn check digit."""
    digits = f"{number:09d}"
    return f"{prefix}{digits}{check_digit(digits)}"
