"""Who the claim is about and who bills it: the demographics an 837 needs and the pipeline keeps none of.

The pipeline carries no names, birth dates or addresses (PHI minimal). A deployment implements
`BillingDirectory` against its registration system; `PlaceholderDirectory` serves demos and tests
with the billing provider from RCM_BILLING_* settings and *placeholder* subscribers derived from a
hash of the account id: stable and pseudonymous, never a real person. Nothing here is ever logged.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str  # two letters
    zip: str  # 5 or 9 digits (the billing provider needs 9)


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str  # the organisation's NPI (2010AA); each claim's practitioner NPI goes in 2310A/2310B
    tax_id: str  # EIN, 9 digits
    address: Address
    contact_name: str
    contact_phone: str  # 10 digits


@dataclass(frozen=True)
class Subscriber:
    last_name: str
    first_name: str
    member_id: str
    birth_date: date
    gender: str  # F, M or U
    address: Address


@dataclass(frozen=True)
class Practitioner:
    last_name: str
    first_name: str
    npi: str | None = None  # for a hospital's local provider id, the NPI its provider master holds


class BillingDirectory(Protocol):
    def billing_provider(self) -> BillingProvider: ...

    def practitioner(self, provider_id: str) -> Practitioner: ...

    def subscriber(self, account_id: str, payer_id: str) -> Subscriber: ...


@dataclass(frozen=True)
class PlaceholderDirectory:
    """The synthetic hospital's directory: real-looking shapes, no real people."""

    provider: BillingProvider

    @classmethod
    def from_settings(cls, settings) -> PlaceholderDirectory:
        return cls(BillingProvider(
            name=settings.billing_name, npi=settings.billing_npi, tax_id=settings.billing_tax_id,
            address=Address(settings.billing_address, settings.billing_city,
                            settings.billing_state, settings.billing_zip),
            contact_name=settings.billing_contact, contact_phone=settings.billing_phone))

    def billing_provider(self) -> BillingProvider:
        return self.provider

    def practitioner(self, npi: str) -> Practitioner:
        digest = hashlib.sha256(f"npi|{npi}".encode()).hexdigest()
        return Practitioner(f"PLACEHOLDER{digest[:6].upper()}", "PROVIDER")

    def subscriber(self, account_id: str, payer_id: str) -> Subscriber:
        digest = hashlib.sha256(f"{account_id}|{payer_id}".encode()).hexdigest()
        number = int(digest[:15], 16)
        home = self.provider.address
        return Subscriber(
            last_name=f"PLACEHOLDER{digest[:6].upper()}", first_name="SYNTHETIC",
            member_id=f"PH{number % 10**10:010d}",
            birth_date=date(1940, 1, 1) + timedelta(days=number % (65 * 365)),
            gender="U",  # the claim was scrubbed against the real sex; a placeholder claims none
            address=Address(f"{number % 9000 + 100} PLACEHOLDER ST", home.city, home.state,
                            home.zip[:5]))
