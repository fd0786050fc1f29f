"""HL7 v2 in: ADT (A01-A08, A11, A13; other ADT events ignored), BAR^P01/P05/P06/P12 and DFT^P03/P11 messages
from files (`rcm produce hl7`) and over MLLP (`rcm listen mllp`) become VisitEvents on
`visit-events`."""
