"""How clinicians write diagnoses, with the ICD-10-CM code a coder would assign.

Test data for the synthetic hospital and for measuring the coder: the coder must never read this
module. Every code is a billable leaf of the ICD-10-CM release in force on the dates the phrase is
used (checked by a unit test): most are the same in FY2026 and FY2027; a code FY2027 deleted is
used until 2026-09-30 (`until`), and codes FY2027 created from 2026-10-01 (`since`), sent with
their code by the source (`sent_coded`: without CDC's titles the coder cannot suggest them).
sex/min_age/max_age are the patients the statement fits; classes are where it is typical.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FY2027 = date(2026, 10, 1)
LAST_FY2026 = date(2026, 9, 30)

ALL = ("OFFICE", "EMERGENCY", "OUTPATIENT", "INPATIENT")
_CLASS = {"O": "OFFICE", "E": "EMERGENCY", "U": "OUTPATIENT", "I": "INPATIENT"}


@dataclass(frozen=True)
class Phrase:
    text: str
    code: str
    sex: str = ""  # "" any, "F" or "M"
    min_age: int = 0
    max_age: int = 125
    classes: tuple[str, ...] = ALL
    since: date | None = None   # first date of service it is used for
    until: date | None = None   # last date of service it is used for
    sent_coded: bool = False    # the source always sends its code

    def in_use(self, day: date | None) -> bool:
        if day is None:
            return self.since is None
        return (self.since is None or self.since <= day) and (self.until is None or day <= self.until)


def _p(text: str, code: str, where: str = "OEUI", sex: str = "", ages: tuple[int, int] = (0, 125)) -> Phrase:
    return Phrase(text, code, sex, ages[0], ages[1], tuple(_CLASS[c] for c in where))


_ADULT = (18, 125)
_PREG = (12, 55)
_NEWBORN = (0, 0)
_CHILD = (0, 17)

PHRASES: tuple[Phrase, ...] = (
    # endocrine and metabolic
    _p("DM2 w/o complications", "E11.9", "OUI", ages=_ADULT),
    _p("type 2 diabetes mellitus without complication", "E11.9", "OUI", ages=_ADULT),
    _p("T2DM with hyperglycemia", "E11.65", "OEUI", ages=_ADULT),
    _p("type II diabetes w/ hyperglycemia", "E11.65", "OEUI", ages=_ADULT),
    _p("DM2 with diabetic CKD", "E11.22", "OUI", ages=_ADULT),
    _p("type 2 DM with diabetic polyneuropathy", "E11.42", "OU", ages=_ADULT),
    _p("type 1 DM without complications", "E10.9", "OU"),
    _p("DM1 with ketoacidosis without coma", "E10.10", "EI"),
    _p("hypothyroidism", "E03.9", "OU"),
    _p("hypothyroid, unspecified", "E03.9", "OU"),
    _p("hyperlipidemia", "E78.5", "OU", ages=_ADULT),
    _p("HLD", "E78.5", "OU", ages=_ADULT),
    _p("pure hypercholesterolemia", "E78.00", "OU", ages=_ADULT),
    _p("mixed hyperlipidemia", "E78.2", "OU", ages=_ADULT),
    _p("obesity", "E66.9", "OU"),
    _p("morbid obesity due to excess calories", "E66.01", "OUI", ages=_ADULT),
    _p("vitamin D deficiency", "E55.9", "OU"),
    _p("hypokalemia", "E87.6", "EI"),
    _p("hyponatremia", "E87.1", "EI"),
    _p("dehydration", "E86.0", "EI"),
    _p("iron deficiency anemia", "D50.9", "OUI"),
    _p("anemia, unspecified", "D64.9", "OUI"),
    _p("vit B12 deficiency anemia", "D51.9", "OU"),
    _p("thrombocytopenia", "D69.6", "UI"),
    # circulatory
    _p("HTN", "I10", "OEUI", ages=_ADULT),
    _p("essential hypertension", "I10", "OEUI", ages=_ADULT),
    _p("benign essential HTN", "I10", "OU", ages=_ADULT),
    _p("CHF exac", "I50.9", "EI", ages=_ADULT),
    _p("congestive heart failure", "I50.9", "OEUI", ages=_ADULT),
    _p("acute on chronic systolic CHF", "I50.23", "EI", ages=_ADULT),
    _p("chronic diastolic heart failure", "I50.32", "OUI", ages=_ADULT),
    _p("afib", "I48.91", "OEUI", ages=_ADULT),
    _p("atrial fibrillation, unspecified", "I48.91", "OEUI", ages=_ADULT),
    _p("paroxysmal AFib", "I48.0", "OEUI", ages=_ADULT),
    _p("atrial flutter", "I48.92", "EI", ages=_ADULT),
    _p("CAD", "I25.10", "OUI", ages=_ADULT),
    _p("CAD of native coronary artery w/o angina", "I25.10", "OUI", ages=_ADULT),
    _p("NSTEMI", "I21.4", "EI", ages=_ADULT),
    _p("acute MI", "I21.9", "EI", ages=_ADULT),
    _p("chest pain, atypical", "R07.89", "OEU"),
    _p("chest pain, unspecified", "R07.9", "OEU"),
    _p("palpitations", "R00.2", "OE"),
    _p("syncope", "R55", "EI"),
    _p("orthostatic hypotension", "I95.1", "EI", ages=_ADULT),
    _p("acute DVT of L lower extremity", "I82.402", "EI", ages=_ADULT),
    _p("acute PE w/o acute cor pulmonale", "I26.99", "EI", ages=_ADULT),
    _p("nonrheumatic aortic stenosis", "I35.0", "OUI", ages=_ADULT),
    _p("bradycardia", "R00.1", "OEI"),
    _p("tachycardia, unspecified", "R00.0", "OEI"),
    _p("CVA", "I63.9", "EI", ages=_ADULT),
    _p("TIA", "G45.9", "EI", ages=_ADULT),
    # respiratory
    _p("acute exacerbation of COPD", "J44.1", "EI", ages=_ADULT),
    _p("COPD exac", "J44.1", "EI", ages=_ADULT),
    _p("COPD", "J44.9", "OUI", ages=_ADULT),
    _p("COPD w/ acute lower resp infection", "J44.0", "EI", ages=_ADULT),
    _p("mild intermittent asthma, uncomplicated", "J45.20", "OE"),
    _p("moderate persistent asthma w/ acute exacerbation", "J45.41", "OE"),
    _p("pneumonia, unspecified organism", "J18.9", "OEI"),
    _p("PNA", "J18.9", "EI"),
    _p("acute bronchitis", "J20.9", "OE"),
    _p("URI", "J06.9", "OE"),
    _p("acute sinusitis", "J01.90", "O"),
    _p("strep pharyngitis", "J02.0", "OE"),
    _p("acute pharyngitis", "J02.9", "OE"),
    _p("influenza w/ other resp manifestations", "J11.1", "OE"),
    _p("COVID-19", "U07.1", "OEI"),
    _p("SOB", "R06.02", "OE"),
    _p("shortness of breath", "R06.02", "OE"),
    _p("cough, unspecified", "R05.9", "OE"),
    _p("acute respiratory failure with hypoxia", "J96.01", "EI"),
    _p("pleural effusion", "J90", "I"),
    _p("OSA", "G47.33", "OU", ages=_ADULT),
    _p("allergic rhinitis", "J30.9", "O"),
    _p("acute bronchiolitis due to RSV", "J21.0", "OEI", ages=(0, 2)),
    # digestive
    _p("GERD", "K21.9", "OU"),
    _p("GERD w/ esophagitis, without bleeding", "K21.00", "OU"),
    _p("acute appendicitis", "K35.80", "EI"),
    _p("cholelithiasis without cholecystitis", "K80.20", "EUI", ages=_ADULT),
    _p("acute pancreatitis", "K85.90", "EI", ages=_ADULT),
    _p("constipation", "K59.00", "OE"),
    _p("diarrhea", "R19.7", "OE"),
    _p("N/V", "R11.2", "E"),
    _p("nausea with vomiting", "R11.2", "OE"),
    _p("RLQ abd pain", "R10.31", "OE"),
    _p("epigastric pain", "R10.13", "OE"),
    _p("noninfective gastroenteritis", "K52.9", "OE"),
    _p("diverticulitis of colon", "K57.32", "EI", ages=_ADULT),
    _p("GI bleed", "K92.2", "EI"),
    _p("IBS", "K58.9", "O"),
    _p("hemorrhoids", "K64.9", "OU"),
    _p("fatty liver", "K76.0", "OU"),
    _p("R inguinal hernia", "K40.90", "OU"),
    # genitourinary
    _p("UTI", "N39.0", "OEUI"),
    _p("urinary tract infection", "N39.0", "OEUI"),
    _p("CKD stage 3a", "N18.31", "OUI", ages=_ADULT),
    _p("CKD stage 4", "N18.4", "OUI", ages=_ADULT),
    _p("ESRD", "N18.6", "OUI", ages=_ADULT),
    _p("AKI", "N17.9", "EI"),
    _p("kidney stone", "N20.0", "EU"),
    _p("acute pyelonephritis", "N10", "EI"),
    _p("acute cystitis w/o hematuria", "N30.00", "OE"),
    _p("hematuria", "R31.9", "OU"),
    _p("BPH", "N40.0", "OU", sex="M", ages=(40, 125)),
    _p("BPH w/ LUTS", "N40.1", "OU", sex="M", ages=(40, 125)),
    _p("elevated PSA", "R97.20", "OU", sex="M", ages=(40, 125)),
    _p("erectile dysfunction", "N52.9", "O", sex="M", ages=_ADULT),
    _p("prostate cancer", "C61", "OUI", sex="M", ages=(40, 125)),
    # pregnancy and women's health
    _p("supervision of normal first pregnancy", "Z34.00", "O", sex="F", ages=_PREG),
    _p("preeclampsia, third trimester", "O14.93", "EI", sex="F", ages=_PREG),
    _p("gestational diabetes, diet controlled", "O24.410", "OU", sex="F", ages=_PREG),
    _p("mild hyperemesis gravidarum", "O21.0", "EI", sex="F", ages=_PREG),
    _p("threatened abortion", "O20.0", "E", sex="F", ages=_PREG),
    _p("UTI in pregnancy, second trimester", "O23.42", "OE", sex="F", ages=_PREG),
    _p("menorrhagia", "N92.0", "O", sex="F", ages=(10, 60)),
    _p("dysmenorrhea", "N94.6", "O", sex="F", ages=(10, 60)),
    _p("postmenopausal bleeding", "N95.0", "OU", sex="F", ages=(40, 125)),
    _p("vaginal candidiasis", "B37.31", "O", sex="F", ages=_ADULT),
    _p("encounter for screening mammogram", "Z12.31", "U", sex="F", ages=(40, 125)),
    _p("lump in L breast", "N63.20", "OU", sex="F", ages=_ADULT),
    _p("breast cancer", "C50.919", "OUI", sex="F", ages=_ADULT),
    # nervous system and mental health
    _p("migraine", "G43.909", "OE"),
    _p("tension headache", "G44.209", "OE"),
    _p("headache", "R51.9", "OE"),
    _p("seizure", "R56.9", "EI"),
    _p("epilepsy", "G40.909", "OI"),
    _p("dementia", "F03.90", "OI", ages=(50, 125)),
    _p("Alzheimer's disease", "G30.9", "OI", ages=(50, 125)),
    _p("Parkinson's disease", "G20.A1", "OI", ages=(40, 125)),
    _p("peripheral neuropathy", "G62.9", "OU", ages=_ADULT),
    _p("sciatica, L side", "M54.32", "OU", ages=_ADULT),
    _p("dizziness", "R42", "OE"),
    _p("insomnia", "G47.00", "O"),
    _p("major depressive d/o, single episode", "F32.9", "O", ages=_ADULT),
    _p("MDD, recurrent, moderate", "F33.1", "O", ages=_ADULT),
    _p("GAD", "F41.1", "O"),
    _p("anxiety", "F41.9", "OE"),
    _p("bipolar disorder", "F31.9", "OI", ages=_ADULT),
    _p("ADHD", "F90.9", "O", ages=(4, 125)),
    _p("alcohol dependence, uncomplicated", "F10.20", "OI", ages=_ADULT),
    _p("opioid dependence, uncomplicated", "F11.20", "OI", ages=_ADULT),
    _p("nicotine dependence, cigarettes, uncomplicated", "F17.210", "OU", ages=_ADULT),
    _p("PTSD", "F43.10", "O", ages=_ADULT),
    _p("schizophrenia", "F20.9", "OI", ages=_ADULT),
    # musculoskeletal
    _p("L knee OA", "M17.12", "OU", ages=_ADULT),
    _p("primary OA of R knee", "M17.11", "OU", ages=_ADULT),
    _p("bilateral knee OA", "M17.0", "OU", ages=_ADULT),
    _p("OA of hip", "M16.9", "OU", ages=_ADULT),
    _p("low back pain", "M54.50", "OE"),
    _p("LBP", "M54.50", "OE"),
    _p("neck pain", "M54.2", "OE"),
    _p("RA", "M06.9", "OU", ages=_ADULT),
    _p("gout", "M10.9", "OE", ages=_ADULT),
    _p("osteoporosis", "M81.0", "OU", ages=(40, 125)),
    _p("R shoulder pain", "M25.511", "OE"),
    _p("pain in L knee", "M25.562", "OE"),
    Phrase("plantar fasciitis", "M72.2", classes=("OFFICE",), until=LAST_FY2026),
    _p("carpal tunnel syndrome, R upper limb", "G56.01", "OU"),
    _p("fibromyalgia", "M79.7", "O"),
    _p("muscle spasm of back", "M62.830", "OE"),
    # injuries
    _p("fx of R distal radius, initial encounter", "S52.501A", "EU"),
    _p("sprain of L ankle, initial encounter", "S93.402A", "EO"),
    _p("concussion w/o LOC, initial encounter", "S06.0X0A", "E"),
    _p("laceration of scalp, initial encounter", "S01.01XA", "E"),
    _p("fx of neck of L femur, initial encounter", "S72.002A", "EI", ages=(50, 125)),
    _p("sprain of R wrist, initial encounter", "S63.501A", "EO"),
    _p("contusion of R knee, initial encounter", "S80.01XA", "EO"),
    # skin and infections
    _p("cellulitis of L lower limb", "L03.116", "OEI"),
    _p("contact dermatitis", "L25.9", "O"),
    _p("atopic dermatitis", "L20.9", "O"),
    _p("psoriasis", "L40.9", "O"),
    _p("acne", "L70.9", "O", ages=(10, 40)),
    _p("herpes zoster", "B02.9", "OE"),
    _p("sepsis, unspecified organism", "A41.9", "EI"),
    _p("sepsis due to E. coli", "A41.51", "I"),
    _p("chronic hepatitis C", "B18.2", "OU", ages=_ADULT),
    _p("conjunctivitis", "H10.9", "OE"),
    _p("otitis media, R ear", "H66.91", "OE", ages=_CHILD),
    _p("cerumen impaction, bilateral", "H61.23", "O"),
    _p("cataract", "H26.9", "OU", ages=(40, 125)),
    _p("glaucoma", "H40.9", "O", ages=(40, 125)),
    # newborn
    _p("neonatal jaundice", "P59.9", "I", ages=_NEWBORN),
    _p("preterm newborn", "P07.30", "I", ages=_NEWBORN),
    _p("neonatal hypoglycemia", "P70.4", "I", ages=_NEWBORN),
    # symptoms
    _p("fever", "R50.9", "OE"),
    _p("fatigue", "R53.83", "O"),
    _p("weight loss", "R63.4", "O"),
    _p("edema", "R60.9", "OE"),
    _p("rash", "R21", "OE"),
    _p("AMS", "R41.82", "EI"),
    _p("altered mental status", "R41.82", "EI"),
    _p("generalized weakness", "R53.1", "OE"),
    _p("dysuria", "R30.0", "OE"),
    _p("urinary frequency", "R35.0", "O"),
    # neoplasms
    _p("lung cancer", "C34.90", "OUI", ages=_ADULT),
    _p("colon cancer", "C18.9", "OUI", ages=_ADULT),
    # encounters and status
    _p("annual physical exam", "Z00.00", "O", ages=_ADULT),
    _p("well child check", "Z00.129", "O", ages=_CHILD),
    _p("flu shot", "Z23", "O"),
    _p("screening colonoscopy", "Z12.11", "U", ages=(45, 125)),
    _p("long term use of insulin", "Z79.4", "OU"),
    _p("long-term use of anticoagulants", "Z79.01", "OU", ages=_ADULT),
    _p("hx of nicotine dependence", "Z87.891", "OU", ages=_ADULT),
    # FY2027 (M72.2 split by foot): a problem-list entry the source sends with its code
    Phrase("plantar fasciitis of right foot", "M72.21", classes=("OFFICE",), since=FY2027,
           sent_coded=True),
    Phrase("L foot plantar fasciitis", "M72.22", classes=("OFFICE",), since=FY2027, sent_coded=True),
)

VAGUE: tuple[str, ...] = (
    "pt feels unwell",
    "see HPI",
    "f/u",
    "multiple complaints",
    "as above",
    "per nursing note",
    "not feeling right",
    "pt here for recheck",
    "same as last visit",
    "various issues",
    "eval",
    "discussed with attending",
    "pending results",
    "complex presentation",
    "see note",
)
