"""HL7 v2 in: ADT (A01, A03, A04, A08, A11) and DFT^P03 messages from files (`rcm produce hl7`) and
over MLLP (`rcm listen mllp`) become VisitEvents on `visit-events`."""
