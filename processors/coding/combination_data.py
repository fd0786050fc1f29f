"""The tables of processors.coding.combination (data only): the words that name diabetes and
its complications, chronic kidney disease and its stages, hypertension, heart failure, COPD and
its infections, each compiled once into a pattern of whole-word alternatives.
"""
from __future__ import annotations

import re


def words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


DIABETES = words(r"t[12]dm", r"dm ?(?:1|2|i|ii)", r"n?iddm", "dm", r"diabet(?:es|ic)(?: mellitus)?", "dka")
NOT_DM_CODE = words("gestational", r"pregnan\w*", "pre ?existing", r"(?:drug|steroid) induced",
                    r"due to (?:an? )?underlying", "secondary diabetes", "cystic fibrosis",
                    r"pre ?diabet\w*", "insipidus", "neonatal", "postpartum")
TYPE_1 = words(r"type (?:1|i|one)", "t1dm", r"dm ?(?:1|i)", "juvenile")
TYPE_OTHER = words("other specified", r"post ?pancreatectomy", "postprocedural")
INSULIN_DEP = words("iddm", r"insulin (?:dependent|requiring|treated)")
INSULIN = re.compile(r"\b(?:iddm|insulin)\b(?! resistan)")
ORAL = words(r"oral (?:hypoglycemics?|antidiabetics?|agents?|meds?|medications?)", "metformin",
             "glipizide", "glyburide", "glimepiride", "sitagliptin", "januvia", "pioglitazone",
             "empagliflozin", "jardiance", "dapagliflozin", "farxiga")
INJECTABLE = words("semaglutide", "ozempic", "liraglutide", "victoza", "dulaglutide", "trulicity",
                   "tirzepatide", "mounjaro", r"glp ?1(?: agonist| ra)?")
MEDS = re.compile(r"[,;]?\s*\b(?:on|taking|uses|using|controlled (?:with|on)|treated with|managed with)?\s*"
                   r"(?:" + "|".join(p.pattern for p in (INSULIN, ORAL, INJECTABLE)) + r")"
                   r"(?:\s*(?:and|\+|,)\s*(?:" + "|".join(p.pattern for p in (INSULIN, ORAL, INJECTABLE))
                   + r"))*(?:\s*(?:dependent|requiring|treated|therapy))?")

# (pattern, code with "E1x" for the diabetes type, what it names, paired code or "", group); the
# first match of a group wins ("peripheral neuropathy" is E1x.42, not also E1x.40)
NOTHING_ELSE = words(r"type (?:1|2|i|ii|one|two)", r"t[12]dm", r"dm ?(?:1|2|i|ii)", r"n?iddm", "dm",
                     r"diabet(?:es|ic)", "mellitus", "controlled", "well", "stable", "uncomplicated",
                     r"(?:non )?insulin dependent", "adult onset", "juvenile", "chronic", "with")
DM_COMPLICATIONS: tuple[tuple[re.Pattern[str], str, str, str, str], ...] = (
    (words("gastroparesis"), "E1x.43", "diabetic gastroparesis", "K31.84", "gi"),
    (words("autonomic (?:poly)?neuropathy"), "E1x.43", "autonomic neuropathy", "", "neuro"),
    (words("mononeuropathy"), "E1x.41", "mononeuropathy", "", "neuro"),
    (words("polyneuropathy", "peripheral neuropathy", "neuropathic", "dpn"), "E1x.42", "polyneuropathy", "", "neuro"),
    (words("neuropathy"), "E1x.40", "neuropathy, unspecified", "", "neuro"),
    (words(r"(?:keto ?acidosis|dka) with coma"), "E1x.11", "ketoacidosis with coma", "", "acid"),
    (words(r"keto ?acidosis", "dka"), "E1x.10", "ketoacidosis without coma", "", "acid"),
    (words(r"hyperosmola\w* (?:\w+ )?with coma", r"(?:hhs|hhns|honk) with coma"), "E1x.01",
     "hyperosmolarity with coma", "", "osm"),
    (words(r"hyperosmola\w*", "hhs", "hhns", "honk"), "E1x.00", "hyperosmolarity without coma", "", "osm"),
    (words("hypoglycemia with coma"), "E1x.641", "hypoglycemia with coma", "", "hypo"),
    (words("hypoglycemia", "hypoglycemic episodes?", "low blood sugars?"), "E1x.649", "hypoglycemia", "", "hypo"),
    (words("hyperglycemia", "poorly controlled", "out of control", "inadequately controlled",
          "high blood sugars?"), "E1x.65", "hyperglycemia", "", "hyper"),
    (words("peripheral (?:vascular|arterial) disease", "pvd", "pad", "peripheral angiopathy"),
     "E1x.51", "peripheral angiopathy", "", "pvd"),
    (words("nephropathy"), "E1x.21", "nephropathy", "", "kidney"),
)
FOOT_ULCER = re.compile(r"\b(?:foot|feet|heel|toe|plantar|dfu)\b[^,;]*?\bulcers?\b|\bulcers?\b[^,;]*?"
                         r"\b(?:foot|feet|heel|toe|plantar)\b|\bdfu\b")
SIDE = (("right", re.compile(r"\b(?:right|rt|r)\b")), ("left", re.compile(r"\b(?:left|lt|l)\b")))
ULCER_DEPTH = (("limited to breakdown of skin", "1"), ("fat layer exposed", "2"),
                ("necrosis of muscle", "3"), ("necrosis of bone", "4"), ("muscle involvement", "5"),
                ("bone involvement", "6"))

CKD = words("ckd", "chronic kidney disease", r"chronic renal (?:disease|failure|insufficiency)",
            "chronic kidney failure", "diabetic kidney disease", "esrd", "eskd",
            r"end stage (?:renal|kidney) (?:disease|failure)")
CKD_STAGE = re.compile(
    r"\b(?:ckd|chronic kidney disease|chronic renal (?:disease|failure|insufficiency)|kidney disease)"
    r"\s*,?\s*(?:stage|stg|st)?\s*(3a|3b|iiia|iiib|[1-5]|iv|iii|ii|i|v)\b"
    r"|\bstage\s*(3a|3b|iiia|iiib|[1-5]|iv|iii|ii|i|v)\s*(?:ckd|chronic kidney|kidney|renal)")
ESRD = words("esrd", "eskd", r"end stage (?:renal|kidney)")
DIALYSIS = words("on dialysis", "dialysis dependent", "on hemodialysis", "hd dependent", "on hd", "on pd",
                 "peritoneal dialysis")
STAGE = {"1": "1", "i": "1", "2": "2", "ii": "2", "3": "3", "iii": "3", "3a": "3a", "iiia": "3a",
          "3b": "3b", "iiib": "3b", "4": "4", "iv": "4", "5": "5", "v": "5"}
N18 = {"1": "N18.1", "2": "N18.2", "3": "N18.30", "3a": "N18.31", "3b": "N18.32", "4": "N18.4",
        "5": "N18.5", "esrd": "N18.6", "": "N18.9"}

HTN = words("htn", "hypertension", "hypertensive", "high blood pressure")
NOT_HTN_CODE = words("pulmonary", "portal", "intracranial", "ocular", "gestational", r"pregnan\w*",
                     "pre ?eclampsia", "white coat", "secondary hypertension", "renovascular", "urgency", "emergency",
                     "crisis", "unrelated to")
HF = words("chf", "ccf", "hf", "heart failure", "hfref", "hfpef", "cardiac failure")
SYSTOLIC = words("systolic", "hfref", "reduced ejection fraction", "reduced ef")
DIASTOLIC = words("diastolic", "hfpef", "preserved ejection fraction", "preserved ef")
HEART_DISEASE = words("hypertensive heart", r"(?<!coronary )(?<!ischemic )(?<!valvular )(?<!congenital )"
                      r"(?<!rheumatic )(?<!atherosclerotic )heart disease", "lvh", "left ventricular hypertrophy", "cardiomegaly")

COPD = words("copd", "aecopd", r"chronic obstructive (?:pulmonary|lung|airways?) disease", "coad")
NOT_COPD_CODE = words("emphysema", "asthma", "aspiration", "bronchiectasis")
EXACERBATION = words(r"exacerbations?", "exacerbated", "exac", "exacerb", "flare", "aecopd", "decompensated")
INFECTIONS = (  # most specific first
    (words("pneumococcal pneumonia"), "J13", "pneumococcal pneumonia"),
    (words("viral pneumonia"), "J12.9", "viral pneumonia"),
    (words("bacterial pneumonia"), "J15.9", "bacterial pneumonia"),
    (words("lobar pneumonia"), "J18.1", "lobar pneumonia"),
    (words("pneumonia", "pna", "cap"), "J18.9", "pneumonia"),
    (words("acute bronchitis"), "J20.9", "acute bronchitis"),
    (words("bronchiolitis"), "J21.9", "acute bronchiolitis"),
    (words(r"(?:acute )?lower resp\w* (?:tract )?infection", "lrti"), "", "acute lower respiratory infection"),
)

NEGATED_CLAUSE = re.compile(r"\b(?:without|no|not|denies|negative for)\b(?:(?!\b(?:with|and)\b)[^,;])*")

RETINOPATHY = words(r"retinopathy", r"n?pdr", "dr", "dme", "csme", "macular edema")
MACULAR_EDEMA = words("macular edema", "dme", "csme", "cme", r"macular oedema")
NONPROLIFERATIVE = words(r"non ?proliferative", "npdr", "background")
PROLIFERATIVE = words("proliferative", "pdr")
PDR_DETAIL = ((words(r"traction (?:retinal )?detachment (?:involving|of) (?:the )?macula"), "2"),
               (words(r"traction (?:retinal )?detachment not involving (?:the )?macula"), "3"),
               (words(r"combined traction (?:and )?rhegmatogenous"), "4"),
               (words("stable proliferative"), "5"))
NPDR_SEVERITY = (("mild", "2"), ("moderate", "3"), ("severe", "4"))
EYE_SIDE = (("3", words("bilateral", "bilat", "both eyes", "ou", "b/l", "each eye")),
             ("1", words("right", "rt", "r", "od", "right eye")), ("2", words("left", "lt", "l", "os", "left eye")))
