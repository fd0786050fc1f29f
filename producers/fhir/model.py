"""Validation with the fhir.resources R4B models (R4B is R4 plus fixes; the package's default
models are R5) and the references between the resources of one run (bundles, NDJSON files)."""
from __future__ import annotations

from producers.fhir.common import MappingError
from producers.fhir.read import Entry

MAPPED = ("Encounter", "Claim", "ClaimResponse", "ExplanationOfBenefit", "ChargeItem")
CONTEXT = ("Patient", "RelatedPerson", "Coverage", "Condition", "Procedure", "Account",
           "Organization", "Practitioner", "PractitionerRole", "Location", "MessageHeader",
           "ChargeItemDefinition")
# R5 ChargeItem price fields, read from the raw resource (R4 has priceOverride only); validated
# without them so an R5-shaped ChargeItem from a converter is not refused for them.
R5_CHARGE_FIELDS = ("unitPriceComponent", "totalPriceComponent")


def _describe(exc) -> str:
    """pydantic's errors by location and message only: never the input values (PHI)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return type(exc).__name__
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        parts.append(f"{loc or '(resource)'}: {err.get('msg', err.get('type', 'invalid'))}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def validate(entry: Entry) -> None:
    """Set entry.model, or entry.error (INVALID) with the reason."""
    from fhir.resources.R4B import get_fhir_model_class

    if entry.raw is None or entry.resource_type not in MAPPED + CONTEXT:
        return
    cls = get_fhir_model_class(entry.resource_type)
    raw = entry.raw
    if entry.resource_type == "ChargeItem":
        raw = {k: v for k, v in raw.items() if k not in R5_CHARGE_FIELDS}
    try:
        entry.model = cls.model_validate(raw)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        entry.error, entry.error_kind = f"invalid {entry.resource_type}: {_describe(exc)}", "INVALID"


class Index:
    """Resources by "Type/id" and by Bundle fullUrl, including the invalid ones (so a reference to
    one is an error, not a silent gap)."""

    def __init__(self, entries: list[Entry]):
        self.by_key: dict[str, Entry] = {}
        self.entries = entries
        self._reverse: dict[tuple[str, str], dict] = {}
        for e in entries:
            if e.raw is None:
                continue
            if e.raw.get("id"):
                self.by_key.setdefault(f"{e.resource_type}/{e.raw['id']}", e)
            if e.full_url:
                self.by_key.setdefault(e.full_url, e)

    def resolve(self, ref, want: tuple[str, ...] | str | None = None):
        """The model a Reference points at, None when it is not in the input; MappingError when
        it points at an entry that is invalid."""
        target = getattr(ref, "reference", None)
        if not target or target.startswith("#"):
            return None
        conditional = conditional_identifier(target)
        if conditional is not None:  # Type?identifier=system|value (Synthea, transactions)
            kind, _, value = conditional
            found = self.by_identifier(kind, value) if value else None
            if found is not None and want and kind not in ((want,) if isinstance(want, str) else want):
                raise MappingError(f"references a {kind}, not a {want if isinstance(want, str) else '/'.join(want)}")
            return found
        entry = self.by_key.get(target)
        if entry is None:
            parts = target.split("/_history/")[0].rstrip("/").split("/")
            if len(parts) >= 2:
                entry = self.by_key.get(f"{parts[-2]}/{parts[-1]}")
        if entry is None:
            return None
        if entry.model is None:
            raise MappingError(f"references {target}, which is invalid ({entry.file}: {entry.where})")
        wanted = (want,) if isinstance(want, str) else want
        if wanted and entry.resource_type not in wanted:
            raise MappingError(f"references {target}, a {entry.resource_type}, not a {'/'.join(wanted)}")
        return entry.model

    def by_identifier(self, resource_type: str, value: str):
        """The valid resource of a type carrying an identifier with this value, if any."""
        key = (resource_type, "identifier")
        if key not in self._reverse:
            found: dict[str, list] = {}
            for e in self._valid(resource_type):
                for i in e.model.identifier or []:
                    if i.value:
                        found.setdefault(i.value, []).append(e.model)
            self._reverse[key] = found
        hits = self._reverse[key].get(value)
        return hits[0] if hits else None

    def referring(self, resource_type: str, field: str, target_keys: set[str]) -> list:
        """Valid resources of a type whose `field` Reference points at one of target_keys, in
        input order (a reverse index built once per type and field: exports can be large)."""
        key = (resource_type, field)
        if key not in self._reverse:
            found: dict[str, list] = {}
            for n, e in enumerate(self._valid(resource_type)):
                ref = getattr(getattr(e.model, field, None), "reference", None)
                if ref:
                    for k in {ref, "/".join(ref.split("/_history/")[0].split("/")[-2:])}:
                        found.setdefault(k, []).append((n, e.model))
            self._reverse[key] = found
        hits = {n: m for k in target_keys for n, m in self._reverse[key].get(k, [])}
        return [hits[n] for n in sorted(hits)]

    def _valid(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.model is not None and e.resource_type == resource_type]


def conditional_identifier(target: str | None) -> tuple[str, str, str] | None:
    """(type, system, value) of a conditional reference `Type?identifier=system|value`."""
    if not target or "?identifier=" not in target:
        return None
    kind, _, token = target.partition("?identifier=")
    system, bar, value = token.partition("|")
    return (kind.rsplit("/", 1)[-1], system, value) if bar else (kind.rsplit("/", 1)[-1], "", system)


def keys_of(entry_or_model, full_url: str | None = None) -> set[str]:
    model = entry_or_model
    keys = {f"{model.get_resource_type()}/{model.id}"} if model.id else set()
    if full_url:
        keys.add(full_url)
    return keys
