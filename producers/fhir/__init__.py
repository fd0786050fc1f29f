"""FHIR R4 in: Bundles, single resources and NDJSON of Encounter, Claim, ClaimResponse and
ExplanationOfBenefit (validated with the `fhir.resources` R4B models, the R4-compatible release)
become VisitEvent records on `visit-events` and RemittanceReceived records on
`remittances-unmatched`; an entry that cannot be read or mapped becomes one DeadLetter.

read.py (files -> entries), model.py (validation, references), visits.py and remits.py (the
mappings, pure), adapter.py (entries -> records), cli.py (`rcm produce fhir`), samples.py (bundles
from the synthetic hospital).
"""
