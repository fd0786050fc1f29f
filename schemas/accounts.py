"""Account numbers: a letter prefix, digits, and a final mod-10 (Luhn) check digit.

A mistyped account number fails the check and is rejected at the edge instead of opening a
phantom account.
"""
from __future__ import annotations


def check_digit(digits: str) -> str:
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
    digits = f"{number:09d}"
    return f"{prefix}{digits}{check_digit(digits)}"


def is_valid_account_id(account_id: str) -> bool:
    if len(account_id) < 3 or not account_id[0].isalpha():
        return False
    body = account_id[1:]
    if not body.isdigit():
        return False
    return check_digit(body[:-1]) == body[-1]
