"""The tables of processors.coding.normalise (data only): shorthand, phrasings, defaults,
abbreviations, synonyms and stop words.

Clinicians write shorthand ("DM2 w/o complications", "L knee OA"); the ICD-10-CM tabular list
writes formal phrases ("Type 2 diabetes mellitus without complications"). These tables bridge the
two in our own words; normalise compiles the patterns and applies the tables in their order.
"""
from __future__ import annotations

# Shorthand that contains punctuation, replaced before tokenising.
SLASHED = (
    ("w/o", " without "), ("w/", " with "), ("h/o", " history of "), ("s/p", " status post "),
    ("r/o", " rule out "), ("n/v", " nausea with vomiting "), ("d/o", " disorder "),
    ("f/u", " follow up "), ("c/o", " complains of "), ("e. coli", " escherichia coli "),
    ("e.coli", " escherichia coli "), ("b/l", " bilateral "), ("y/o", " "),
)

ABBREVIATIONS: dict[str, str] = {
    "dm": "diabetes mellitus", "dm2": "type 2 diabetes mellitus", "t2dm": "type 2 diabetes mellitus",
    "dm1": "type 1 diabetes mellitus", "t1dm": "type 1 diabetes mellitus", "iddm": "type 2 diabetes mellitus",
    "niddm": "type 2 diabetes mellitus", "htn": "hypertension", "chf": "congestive heart failure",
    "copd": "chronic obstructive pulmonary disease", "ckd": "chronic kidney disease",
    "aki": "acute kidney injury", "arf": "acute kidney failure", "mi": "myocardial infarction",
    "ami": "acute myocardial infarction", "cad": "coronary artery disease",
    "afib": "atrial fibrillation", "af": "atrial fibrillation", "aflutter": "atrial flutter",
    "uti": "urinary tract infection", "gerd": "gastro-esophageal reflux disease",
    "oa": "osteoarthritis", "ra": "rheumatoid arthritis", "bph": "benign prostatic hyperplasia",
    "fx": "fracture", "fxs": "fracture", "l": "left", "lt": "left", "r": "right", "rt": "right",
    "bilat": "bilateral", "exac": "exacerbation", "exacerb": "exacerbation",
    "hld": "hyperlipidemia", "esrd": "end stage renal disease", "dvt": "deep vein thrombosis",
    "pe": "pulmonary embolism", "nstemi": "non-st elevation myocardial infarction",
    "stemi": "st elevation myocardial infarction", "cva": "cerebral infarction",
    "tia": "transient cerebral ischemic attack", "pna": "pneumonia", "uri": "upper respiratory infection",
    "sob": "shortness of breath", "doe": "dyspnea on exertion", "osa": "obstructive sleep apnea",
    "luts": "lower urinary tract symptoms", "psa": "prostate specific antigen",
    "ibs": "irritable bowel syndrome", "gi": "gastrointestinal", "abd": "abdominal",
    "rlq": "right lower quadrant", "llq": "left lower quadrant", "ruq": "right upper quadrant",
    "luq": "left upper quadrant", "mdd": "major depressive disorder",
    "gad": "generalized anxiety disorder", "ptsd": "post-traumatic stress disorder",
    "adhd": "attention-deficit hyperactivity disorder", "loc": "loss of consciousness",
    "lbp": "low back pain", "ams": "altered mental status", "vit": "vitamin", "hx": "history of",
    "pmh": "history of", "resp": "respiratory", "rsv": "respiratory syncytial virus",
    "ii": "2", "i": "1", "htn.": "hypertension", "ca": "cancer", "mets": "metastasis",
    "hf": "heart failure", "hfref": "systolic heart failure", "hfpef": "diastolic heart failure",
    "pvd": "peripheral vascular disease", "pad": "peripheral vascular disease",
    "bx": "biopsy", "sx": "symptoms", "uncomp": "uncomplicated", "lle": "left lower extremity",
    "rle": "right lower extremity", "lue": "left upper extremity", "rue": "right upper extremity",
    "inj": "injury", "init": "initial", "subseq": "subsequent", "ha": "headache",
    "ntd": "", "yo": "", "pt": "", "pts": "",
    "cap": "pneumonia", "utis": "urinary tract infection", "uris": "upper respiratory infection", "hypok": "hypokalemia", "hypona": "hyponatremia", "hyperk": "hyperkalemia",
    "hyperna": "hypernatremia", "hypomag": "hypomagnesemia", "hypomg": "hypomagnesemia",
    "hypocal": "hypocalcemia", "hypophos": "hypophosphatemia", "hypogly": "hypoglycemia",
    "dka": "diabetic ketoacidosis", "ome": "otitis media with effusion",
    "cp": "chest pain", "svt": "supraventricular tachycardia", "vtach": "ventricular tachycardia",
    "tach": "tachycardia", "brady": "bradycardia", "sz": "seizure", "szs": "seizure",
    "etoh": "alcohol", "def": "deficiency", "defic": "deficiency", "djd": "osteoarthritis",
    "pud": "peptic ulcer disease", "ugib": "gastrointestinal hemorrhage",
    "lgib": "gastrointestinal hemorrhage", "gib": "gastrointestinal hemorrhage",
    "pyelo": "pyelonephritis", "mrsa": "methicillin resistant staphylococcus aureus",
    "sle": "systemic lupus erythematosus", "pcos": "polycystic ovarian syndrome",
    "ocd": "obsessive compulsive disorder", "hfmd": "hand foot and mouth disease",
    "lac": "laceration", "fb": "foreign body", "sah": "subarachnoid hemorrhage",
    "ards": "acute respiratory distress syndrome", "ptx": "pneumothorax", "tb": "tuberculosis",
    "hfmref": "systolic heart failure", "hfimpef": "diastolic heart failure",
    "hfrecef": "diastolic heart failure", "afl": "atrial flutter", "chb": "complete atrioventricular block",
    "wks": "weeks", "wk": "weeks", "uc": "ulcerative colitis", "odd": "oppositional defiant disorder",
    "hypertg": "hypertriglyceridemia", "hchol": "hypercholesterolemia",
    # clinicians' abbreviations every coder meets (each a standard expansion, not a dev-set answer)
    "oab": "overactive bladder", "rls": "restless legs syndrome",
    "rrms": "relapsing remitting multiple sclerosis", "nsclc": "non small cell lung cancer",
    "sclc": "small cell lung cancer", "rul": "right upper lobe", "rml": "right middle lobe",
    "rll": "right lower lobe", "lul": "left upper lobe", "lll": "left lower lobe",
    "snhl": "sensorineural hearing loss", "chl": "conductive hearing loss",
    "ddd": "degenerative disc disease", "cmc": "carpometacarpal", "uoq": "upper outer quadrant",
    "uiq": "upper inner quadrant", "loq": "lower outer quadrant", "liq": "lower inner quadrant",
    "pcn": "penicillin", "lad": "left anterior descending coronary artery", "rca": "right coronary artery",
    "lcx": "left circumflex coronary artery",
    "bpv": "benign paroxysmal vertigo", "bppv": "benign paroxysmal vertigo",
    "ahrf": "acute hypoxic respiratory failure", "1st": "first", "4th": "fourth", "5th": "fifth", "gdm": "gestational diabetes", "2nd": "second", "3rd": "third", "t2": "type 2", "t1": "type 1",
}

# Clinical wording -> the wording the tabular list uses (whole-phrase, after abbreviations).
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("coronary artery disease", "atherosclerotic heart disease of native coronary artery"),
    ("acute kidney injury", "acute kidney failure"),
    ("stroke", "cerebral infarction"),
    ("deep vein thrombosis", "embolism and thrombosis of deep veins"),
    ("kidney stone", "calculus of kidney"), ("gallstones", "calculus of gallbladder"),
    ("cholelithiasis", "calculus of gallbladder"), ("distal", "lower end of"),
    ("proximal", "upper end of"), ("seizure", "convulsions"), ("neck pain", "cervicalgia"),
    ("peripheral neuropathy", "polyneuropathy"), ("shingles", "zoster"),
    ("herpes zoster", "zoster"), ("plantar fasciitis", "plantar fascial fibromatosis"),
    ("urinary frequency", "frequency of micturition"),
    ("physical exam", "general adult medical examination"),
    ("annual physical", "general adult medical examination"),
    ("well child", "routine child health examination"), ("flu shot", "immunization"),
    ("vaccination", "immunization"), ("vaccine", "immunization"),
    ("screening colonoscopy", "screening for malignant neoplasm of colon"),
    ("cancer", "malignant neoplasm"), ("carcinoma", "malignant neoplasm"), ("adenocarcinoma", "malignant neoplasm"),
    ("tension headache", "tension-type headache"), ("hypothyroid", "hypothyroidism"),
    ("hyperthyroidism", "thyrotoxicosis"), ("hyperthyroid", "thyrotoxicosis"),
    ("hypertriglyceridemia", "pure hyperglyceridemia"),
    ("leg", "lower limb"), ("arm", "upper limb"), ("gi bleed", "gastrointestinal hemorrhage"),
    ("bleed", "hemorrhage"), ("generalized weakness", "weakness"), ("vaginal", "vagina"),
    ("preeclampsia", "pre-eclampsia"), ("menorrhagia", "excessive and frequent menstruation"),
    ("renal failure", "kidney failure"), ("flu", "influenza"), ("strep", "streptococcal"),
    ("dehydrated", "dehydration"), ("hyperglycaemia", "hyperglycemia"),
    ("anaemia", "anemia"), ("oesophagitis", "esophagitis"), ("diarrhoea", "diarrhea"),
    ("oedema", "edema"), ("tumour", "tumor"), ("haemorrhage", "hemorrhage"),
    ("hypoxic", "with hypoxia"), ("hypoxemic", "with hypoxia"), ("hypercapnic", "with hypercapnia"),
    ("croup", "acute obstructive laryngitis"), ("forehead", "other part of head"),
    ("femoral neck", "neck of femur"),
    ("otitis media with effusion", "nonsuppurative otitis media"), ("vaccines", "immunization"),
    ("vaccinations", "immunization"), ("immunizations", "immunization"), ("ftt", "failure to thrive"), ("hyperemesis", "hyperemesis gravidarum"),
    # sites and lesions as the Alphabetic Index words them
    # Vulvovaginitis, see Vaginitis: the tabular list words the same condition both ways
    ("vulvovaginitis", "vaginitis"),
    ("gastroenteric", "gastrointestinal"), ("labia majora", "vulva"), ("labia minora", "vulva"),
    ("labium", "vulva"), ("labia", "vulva"), ("boil", "furuncle"), ("boils", "furuncle"),
    ("twist", "torsion"), ("twisted", "torsion"), ("bowel", "intestine"),
    ("stone", "calculus"), ("stones", "calculus"), ("embolus", "embolism"), ("emboli", "embolism"),
    # lay names of conditions and signs, as the Alphabetic Index's cross-references give them
    # ("Vomiting, blood, see Hematemesis"): general synonyms, never a statement's answer
    ("vomiting blood", "hematemesis"), ("vomiting up blood", "hematemesis"),
    ("throwing up blood", "hematemesis"), ("coughing up blood", "hemoptysis"),
    ("coughing blood", "hemoptysis"), ("spitting blood", "hemoptysis"),
    ("wets the bed", "nocturnal enuresis"), ("wetting the bed", "nocturnal enuresis"),
    ("bedwetting", "nocturnal enuresis"), ("bed wetting", "nocturnal enuresis"),
    ("toenail fungus", "onychomycosis"), ("fingernail fungus", "onychomycosis"),
    ("nail fungus", "onychomycosis"), ("uterine fibroids", "leiomyoma of uterus"),
    ("uterine fibroid", "leiomyoma of uterus"), ("fibroids", "leiomyoma of uterus"),
    ("fibroid", "leiomyoma of uterus"), ("hives", "urticaria"), ("lazy eye", "amblyopia"), ("athlete foot", "tinea pedis"),
    ("jock itch", "tinea cruris"), ("ringworm", "tinea corporis"), ("swimmer ear", "otitis externa"),
    ("ringing in the ears", "tinnitus"), ("ringing in ears", "tinnitus"), ("double vision", "diplopia"),
    ("blood in urine", "hematuria"), ("blood in the urine", "hematuria"), ("heart attack", "myocardial infarction"),
    ("tennis elbow", "lateral epicondylitis"), ("golfer elbow", "medial epicondylitis"),
    ("frozen shoulder", "adhesive capsulitis of shoulder"), ("bunion", "hallux valgus"),
    ("chickenpox", "varicella"), ("chicken pox", "varicella"),
    ("german measles", "rubella"), ("lockjaw", "tetanus"), ("pinworms", "enterobiasis"),
    ("pinworm", "enterobiasis"), ("head lice", "pediculosis capitis"), ("bad breath", "halitosis"),
    ("hair loss", "alopecia"), ("bedsore", "pressure ulcer"), ("bed sore", "pressure ulcer"),
    ("clubfoot", "talipes equinovarus"), ("club foot", "talipes equinovarus"),
    ("degenerative disc disease", "intervertebral disc degeneration"),
    ("thumb carpometacarpal", "first carpometacarpal"),
    # seropositive means rheumatoid factor found (M05), seronegative not (M06.0-)
    ("seropositive rheumatoid arthritis", "rheumatoid arthritis with rheumatoid factor"),
    ("seronegative rheumatoid arthritis", "rheumatoid arthritis without rheumatoid factor"),
    # lay names of body parts, which the tabular list never uses
    ("voice box", "larynx"), ("windpipe", "trachea"), ("gullet", "esophagus"), ("food pipe", "esophagus"),
    ("womb", "uterus"), ("collarbone", "clavicle"), ("collar bone", "clavicle"), ("breastbone", "sternum"),
    ("breast bone", "sternum"), ("kneecap", "patella"), ("knee cap", "patella"), ("shinbone", "tibia"),
    ("shin bone", "tibia"), ("thighbone", "femur"), ("thigh bone", "femur"), ("cheekbone", "malar bone"),
    ("cheek bone", "malar bone"), ("tailbone", "coccyx"), ("tail bone", "coccyx"), ("belly button", "umbilicus"),
    ("navel", "umbilicus"), ("eardrum", "tympanic membrane"), ("ear drum", "tympanic membrane"),
    ("adam apple", "thyroid cartilage"), ("voicebox", "larynx"), ("armpit", "axilla"), ("shoulder blade", "scapula"),
    ("funny bone", "elbow"), ("spleen", "spleen"), ("gums", "gingiva"), ("gum", "gingiva"),
)

STOPWORDS = frozenset({
    "of", "the", "and", "or", "in", "on", "a", "an", "to", "for", "with", "by", "at", "as", "due",
    "nos", "unspecified", "is", "was", "has", "had", "patient", "type", "from", "mention", "site",
})
NEGATORS = frozenset({"without", "no", "not"})
END_NEGATION = frozenset({"with", "and", ","})

# A statement made only of these words says nothing codable.
GENERIC_WORDS = frozenset({
    "follow", "up", "visit", "check", "recheck", "eval", "evaluation", "complaint", "issue",
    "problem", "result", "pending", "note", "see", "above", "same", "last", "various", "multiple",
    "feel", "feeling", "unwell", "discuss", "discussed", "attending", "hpi", "presentation",
    "complex", "here", "today", "per", "nursing", "right", "well", "doing", "good", "ok", "stable",
    "history", "present", "illness", "exam", "workup", "sick", "status", "routine", "general",
})

# Roman numerals of stages ("CKD stage IIIa"), as the tabular list writes them.
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iiia": "3a", "iiib": "3b", "iv": "4", "v": "5"}

# Multi-word shorthand and clinicians' phrasings, rewritten on the lowercased statement first:
# (pattern, replacement). A dict as the replacement keeps group 1 and looks group 2 up in it.
PHRASINGS: tuple[tuple[str, str | dict[str, str]], ...] = (
    # a vaccine is an encounter for immunization, not the disease it prevents
    ((r"\b(?:covid(?:[- ]?19)?|flu|influenza|tdap|td|hpv|mmr|varicella|shingrix|zoster|shingles|pneumococcal|"
     r"pneumovax|prevnar|hep(?:atitis)? [ab]|dtap|ipv|rsv|tetanus)\s+(?:vaccines?|vaccinations?|shots?|boosters?|"
     r"immunizations?|vax)\b"), " immunization "),
    (r"\bscreening mammogram\b|\bmammogram,? screening\b|\bmammo screening\b",
     " screening mammogram for malignant neoplasm of breast "),
    (r"\bcolonoscopy,? screening\b|\b(?:colon|colorectal) cancer screening\b|\bcrc screening\b",
     " screening for malignant neoplasm of colon "),
    ((r"\bpre-?op(?:erative)? (?:exam|examination|evaluation|eval|clearance|visit|physical|h&p|assessment)\b|"
     r"\b(?:surgical|medical) clearance\b"), " other preprocedural examination "),
    (r"\b(?:medication|med|meds|rx|prescription) refills?\b|\brefill (?:of )?(?:meds|medications?)\b",
     " issue of repeat prescription "),
    (r"\b(?:ocp|ocps|birth control(?: pills?)?|oral contraceptives?)(?: refill)?\b", " surveillance of contraceptive pills "),
    (r"\bdepo(?:[- ]provera)?(?: shot| injection)?\b", " surveillance of injectable contraceptive "),
    (r"\biud (?:check|string check|follow up)\b", " routine checking of intrauterine contraceptive device "),
    ((r"\bwell[- ]?wom[ae]n(?:'?s)?(?: exam| examination| visit| check)?\b|\b(?:annual|routine) (?:gyn|gyne|gynecologic|"
     r"gynecological|pelvic) (?:exam|examination|visit)\b"), " gynecological examination "),
    (r"\ba[- ]?fib\b", " atrial fibrillation "), (r"\ba[- ]?flutter\b", " atrial flutter "),
    # rapid ventricular response describes the rhythm; ICD-10-CM has no code for it
    (r"(?:,|\bwith\b|\bw/|\band\b)?\s*(?:\brvr\b|\brapid ventricular response\b|\brate controlled\b)",
     " "),
    (r"\bcovid(?:[- ]?19)?\b|\bsars[- ]?cov[- ]?2\b", " covid 19 "),
    # "AB" and "appy" read by the word beside them (AB is also antibody, appy also appendectomy)
    (r"\b(missed|spontaneous|threatened|incomplete|complete|inevitable|septic) ab\b", r" \1 abortion "),
    (r"\b(acute|perforated|ruptured|gangrenous) appy\b", r" \1 appendicitis "),
    (r"\bcradle cap\b", " seborrhea capitis "), (r"\bpink ?eye\b", " conjunctivitis "),
    (r"\bc\.? ?diff(?:icile)?\b", " clostridium difficile "),
    (r"\b(ckd|stage|stg)\s*(iiia|iiib|iii|iv|v|ii|i)\b", ROMAN),
    # where pneumonia was caught, or which lobe it is in, does not change its code
    (r"\b(?:community|hospital|healthcare|health care)[- ]?(?:acquired|associated)\s+(?=pneumonia|pna)",
     " "),
    ((r"\b(?:rll|rul|rml|lll|lul|lingular|bibasilar|basilar|multifocal|multilobar|bilateral|"
     r"(?:right|left|r|l) (?:lower|upper|middle) lobe)\s+(?=pneumonia|pna\b)"), " "),
    (r"\bwell[- ]?(?:child|baby|infant)(?:\s+(?:check|visit|exam|examination|care))?\b|\bwcc\b",
     " routine child health examination "),
    (r"\b(quadrant|epigastric|periumbilical|suprapubic)\s+(?:abdominal|abd)\s+pain\b", r" \1 pain "),
    (r"^\s*(?:(?:severe|moderate|mild|critical|symptomatic)\s+)*as\s*$", " aortic stenosis "),
    (r"^\s*age\s*$", " acute gastroenteritis "),
    (r"\bnewborn jaundice\b", " neonatal jaundice "),
    # Otitis, media, acute NOS is H66.9- (the serous, suppurative kinds are written as such)
    (r"\b(?:acute otitis media|aom)\b(?!\s*(?:with|w/)\s*(?:effusion|rupture|perforat))", " otitis media "),
    (r"\b(aortic|mitral|tricuspid|pulmonic|pulmonary)(?: valve)? regurgitation\b", r" \1 insufficiency "),
    (r"\b(\d+)\s*(?:yo|y\.o\.|year old|years old|month old|months old|mo old)\b", " "),
    # injuries in the words of the alphabetic index
    (r"\b((?:inter|sub|per)trochanteric) hip\b", r" \1 "),
    (r"(?<!trochanteric )\bhip (?:fx|fracture)\b|\bfx (?:of )?(?:the )?hip\b|\bfracture (?:of )?(?:the )?hip\b",
     " fracture of neck of femur "),
    (r"\b(?:multiple )?rib (?:fxs|fractures)\b|\bmultiple rib (?:fx|fracture)\b|\bfractured ribs\b",
     " multiple fractures of ribs "),
    (r"\b(?:fx|fracture) of (?:a |one )?rib\b|\brib (?:fx|fracture)\b", " fracture of one rib "),
    (r"\bboxer'?s? (?:fx|fracture)\b", " fracture of neck of fifth metacarpal bone "),
    (r"\bbuckle\b", " torus "),
    (r"\bwrist (?:fx|fracture)\b|\b(?:fx|fracture) (?:of )?(?:the )?wrist\b", " fracture of carpal bone wrist "),
    (r"\b(?:lumbar|lumbosacral|low back|lower back|lumbar back|back) strain\b",
     " strain of muscle fascia and tendon of lower back "),
    (r"\b(?:lumbar|lumbosacral|low back|lower back) sprain\b", " sprain of ligaments of lumbar spine "),
    (r"\b(?:neck|cervical) strain\b", " strain of muscle fascia and tendon at neck level "),
    (r"\b(?:neck|cervical) sprain\b|\bwhiplash(?: injury)?\b", " sprain of ligaments of cervical spine "),
    (r"\bclosed head injury\b|\bchi\b", " head injury "),
    (r"\b(?:dog|cat|human|animal) bite\b", " open bite "),
    (r"\binitial (?:visit|eval|evaluation|presentation)\b", " initial encounter "),
    # children's conditions in the words of the alphabetic index
    (r"\b(?:in|of) (?:a |an |the )?(?:child|infant|toddler|adolescent|baby|pediatric patient)\b", " "),
    (r"\bviral (?:syndrome|illness)\b", " viral infection "),
    (r"\binfant(?:ile)? colic\b", " colic "),
    (r"\b(?:newborn|nb|neonatal) (?:exam|examination|check|visit|weight check)\b", " health examination for newborn "),
    ((r"^(?=.*\b(?:newborn|infant|baby|nb|liveborn|neonate)\b)(?=.*\b(?:c-section|c section|cesarean|caesarean|"
     r"csection|c/s)\b).*$"), " single liveborn infant delivered by cesarean "),
    (r"^(?=.*\b(?:newborn|infant|baby|nb|liveborn|neonate)\b)(?=.*\b(?:vaginal|vaginally|svd|nsvd)\b).*$",
     " single liveborn infant delivered vaginally "),
    (r"\bphysiologic(?:al)? jaundice\b", " neonatal jaundice "),
    (r"\bmolluscum\b(?! contagiosum)", " molluscum contagiosum "),
    (r"\bhead lice\b|\blice\b", " head louse infestation "),
    (r"\bpinworms?(?: infection)?\b", " enterobiasis "),
    (r"\bautism(?: spectrum disorder)?\b", " autism spectrum disorder "),
    (r"\b(?:speech|language|speech and language|expressive language) delay\b",
     " developmental disorder of speech and language "),
    (r"(?<!global )\bdevelopmental delay\b", " lack of expected normal physiological development in childhood "),
    (r"\breactive airways? disease\b|\brad\b", " asthma "),
    (r"\bacute gastroenteritis\b", " gastroenteritis "),
    (r"\bsports? (?:physical|pe|exam|examination)\b|\bpre-?participation (?:physical|exam|examination)\b",
     " examination for participation in sport "),
    (r"\bfifth disease\b", " erythema infectiosum "), (r"\broseola(?: infantum)?\b", " exanthema subitum "),
    (r"\b(?:influenza|flu) (?:type )?[ab]\b(?: positive| pos| \+)?", " influenza due to other identified influenza virus "),
    (r"\b(covid(?:[- ]?19)?|rsv|strep)\s+(?:positive|pos|\+)", r" \1 "),
    (r"\bhfm\b", " hand foot and mouth "),
    (r"\b(?:htn|hypertension|hypertensive|bp|blood pressure) (urgency|emergency|crisis)\b", r" hypertensive \1 "),
    (r"\bpvcs?\b", " ventricular premature depolarization "), (r"\bpacs?\b", " atrial premature depolarization "),
    (r"\baaa\b", " abdominal aortic aneurysm "),
    (r"\bgout (?:flare|attack|exacerbation)\b|\bacute gout\b|\bgouty arthritis\b", " gout "),
    (r"\bosteopenia\b", " other specified disorders of bone density and structure "),
    # Smoker: see Dependence, drug, nicotine (cigarettes when written, or counted in packs)
    ((r"\b(?:cigarette smoker|smokes cigarettes|smoking cigarettes|\d+(?:\.\d+)? ?(?:ppd|packs? (?:per|a) day)(?: smoker)?)\b"
     r"|\b(?:current|active|daily|heavy) (?:smoker|smoking)\b(?=.*\b(?:cigarettes?|ppd|pack)\b)"),
     " nicotine dependence cigarettes "),
    (r"^\s*(?:current |active |daily |heavy )?(?:smoker|smokes|smoking)\s*$", " nicotine dependence "),
    (r"\b(?:marijuana|thc|cannabis)\b", " cannabis "),
    (r"\bpeptic ulcer disease\b|\bpud\b", " peptic ulcer "),
    (r"\bhematochezia\b|\bbrbpr\b|\bbright red blood per rectum\b", " melena "),
    (r"\b(?:sigmoid|colonic|colon|large bowel|descending colon|left sided|left colon) (diverticul(?:itis|osis))\b",
     r" \1 of large intestine "),
    (r"\b(diverticul(?:itis|osis))\b(?! of)", r" \1 of intestine "),
    (r"\bnafld\b|\bmasld\b|\bhepatic steatosis\b", " fatty liver "), (r"\bnash\b", " nonalcoholic steatohepatitis "),
    (r"\bhep\.? ?([abc])\b", r" hepatitis \1 "),
    (r"\bsbo\b|\bsmall bowel obstruction\b|\bbowel obstruction\b", " intestinal obstruction "),
    (r"^\s*hernia\s*$", " abdominal hernia "),
    (r"\burinary retention\b", " retention of urine "),
    (r"\bvaginal yeast infection\b|\bvaginal candidiasis\b|\bvulvovaginal candidiasis\b",
     " candidiasis of vulva and vagina "),
    (r"\byeast infection\b", " candidiasis "),
    (r"^\s*(?:post)?menopaus(?:e|al)(?: state)?\s*$", " asymptomatic menopausal state "),
    (r"\baub\b|\babnormal uterine bleeding\b", " abnormal uterine and vaginal bleeding "),
    (r"\bbreast (?:mass|lump|nodule)\b|\b(?:mass|lump|nodule) (?:of|in) (?:the )?breast\b", " lump in breast "),
    (r"\b(?:morbid|severe) obesity\b(?!.*\b(?:hypoventilation|due to)\b)|\bmorbidly obese\b",
     " morbid obesity due to excess calories "),
    (r"\bobese\b", " obesity "),
    # skin and soft tissue
    ((r"^(?!.*\b(?:dental|tooth|peritonsillar|retropharyngeal|liver|hepatic|lung|brain|renal|kidney|perianal|"
     r"perirectal|anal|rectal|ischiorectal|breast|tubo|ovarian|spinal|epidural|psoas|pelvic|appendiceal|tendon|"
     r"bartholin)\b)(.*?)\b(?:skin |cutaneous |soft tissue |subcutaneous )?abscess\b"), r"\1 cutaneous abscess "),
    ((r"\b(?:bilateral |b/l |bilat )?(?:lower extremity|lower extremities|lower leg|leg|ankle|pedal|lle|rle|ble|le|"
     r"foot|feet) (?:edema|swelling)\b|\bedema of (?:the )?(?:legs?|feet|ankles?|lower extremit\w+)\b"),
     " localized edema "),
    (r"\bs(?:trep(?:tococcus|tococcal)?)?\.? pneumo(?:niae)?\b", " streptococcus pneumoniae "),
    (r"^(?=.*\b(?:cellulitis|abscess)\b)(.*?)\b(?:foot|ankle|thigh|knee|leg|calf|shin|lower extremity|heel)\b",
     r"\1 lower limb "),
    (r"^(?=.*\b(?:cellulitis|abscess)\b)(.*?)\b(?:hand|wrist|forearm|upper arm|elbow|arm|upper extremity)\b",
     r"\1 upper limb "),
    # neoplasms: the organ in the tabular list's words
    *((rf"\b{organ} (?:cancer|ca|carcinoma|adenocarcinoma|malignancy|malignant neoplasm)\b",
       f" malignant neoplasm of {site} ") for organ, site in (
        ("ovarian", "ovary"), ("endometrial", "endometrium"), ("uterine", "corpus uteri"),
        ("cervical", "cervix uteri"), ("testicular", "testis"), ("pancreatic", "pancreas"),
        ("(?:renal|kidney|renal cell)", "kidney except renal pelvis"), ("(?:gastric|stomach)", "stomach"),
        ("(?:esophageal|oesophageal)", "esophagus"), ("(?:liver|hepatic)", "liver"), ("thyroid", "thyroid gland"),
        ("brain", "brain"), ("(?:laryngeal|larynx)", "larynx"), ("(?:bladder|urothelial)", "bladder"))),
    (r"\brcc\b", " malignant neoplasm of kidney except renal pelvis "), (r"\bhcc\b", " liver cell carcinoma "),
    (r"\bgbm\b|\bglioblastoma(?: multiforme)?\b", " malignant neoplasm of brain "),
    (r"\bbrain (?:tumor|tumour|mass|lesion)\b", " neoplasm of unspecified behavior of brain "),
    (r"\bbcc\b", " basal cell carcinoma "), (r"\bscc\b", " squamous cell carcinoma "),
    (r"\b(basal cell carcinoma|squamous cell carcinoma) of (?:the )?(?!skin)", r" \1 of skin of "),
    (r"\bcll\b", " chronic lymphocytic leukemia of b cell type "), (r"\baml\b", " acute myeloblastic leukemia "),
    (r"\bcml\b", " chronic myeloid leukemia "),
    (r"^\s*lymphoma\s*$|\bnon[- ]?hodgkin'?s?(?: lymphoma)?\b|\bnhl\b", " non-hodgkin lymphoma "),
    (r"\bdcis\b|\bductal carcinoma in situ\b", " intraductal carcinoma in situ of breast "),
    (r"^\s*(bone|brain|liver|lung) (?:mets|metastases|metastasis|metastatic disease)\s*$",
     r" secondary malignant neoplasm of \1 "),
    ((r"\b(?:on|receiving|needs|requires|on chronic) (?:hemo)?dialysis\b|\b(?:hemo)?dialysis[- ]dependent\b|"
     r"\b(?:hd|pd)[- ]dependent\b|\bdialysis status\b"), " dependence on renal dialysis "),
    (r"\bpneumococcal pneumonia\b", " pneumonia due to streptococcus pneumoniae "),
    (r"\bseptic (?:arthritis|joint)\b", " pyogenic arthritis "),
    (r"\bmono\b", " infectious mononucleosis "),
    (r"\bhiv (?:positive|pos|\+)|\basymptomatic hiv\b|\bhiv status\b", " asymptomatic human immunodeficiency virus infection status "),
    (r"^\s*(?:hiv|hiv disease|hiv infection|aids|hiv/aids)\s*$", " human immunodeficiency virus disease "),
    (r"\bchlamydia\b(?! trachomatis)", " chlamydial infection "), (r"\bgonorrh?oea\b|\bgonorrhea\b|\bgc\b", " gonococcal infection "),
    (r"\bgenital herpes\b|\bhsv ?2\b", " herpesviral infection of urogenital system "),
    (r"^\s*(?:herpes|hsv|hsv ?1|herpes simplex)\s*$", " herpesviral infection "),
    (r"\banemia of chronic (?:disease|illness|inflammation)\b|\bacd\b", " anemia in other chronic diseases classified elsewhere "),
    (r"\bcoagulopathy\b", " coagulation defect "),
    (r"\b(?:unintentional|unintended|unexplained|involuntary) weight loss\b", " abnormal weight loss "),
    ((r"\bchest (?:tightness|pressure|discomfort)\b|\btightness (?:in|of) (?:the )?chest\b|\batypical chest pain\b|"
     r"\bchest pain,? atypical\b|\bnon-?cardiac chest pain\b"), " other chest pain "),
    (r"\bnear[- ]?syncope\b|\bpresyncope\b|\bpre-syncope\b", " syncope "),
    (r"\b(?:frequent|recurrent|repeated|multiple) falls\b", " repeated falls "),
    (r"\bnumbness\b", " anesthesia of skin "), (r"\btingling\b", " paresthesia of skin "),
    (r"\bascvd\b|\batherosclerotic cardiovascular disease\b", " coronary artery disease "),
    (r"\b(?:trach|tracheostomy)[- ]dependen\w*\b|\bhas (?:a )?trach\b", " tracheostomy status "),
    (r"\b(?:g[- ]?tube|peg(?: tube)?|gastrostomy(?: tube)?)[- ]dependen\w*\b|\bhas (?:a )?(?:g[- ]?tube|peg)\b",
     " gastrostomy status "),
    (r"\bwheelchair[- ](?:bound|dependent|user)\b|\b(?:uses|requires) (?:a )?wheelchair\b", " dependence on wheelchair "),
    (r"\bbka\b(?: status)?|\bbelow[- ]the[- ]knee amputation\b(?: status)?|\bbelow[- ]knee amputation\b(?: status)?",
     " acquired absence of leg below knee "),
    (r"\babove[- ](?:the[- ])?knee amputation\b(?: status)?", " acquired absence of leg above knee "),
    # how long a complaint has lasted, and who has it, do not change its code
    ((r"\b(?:x|for|since|over|over the|past|last|times|of)\s*(?:the )?(?:past |last )?\d+(?:-\d+)?\s*"
     r"(?:days?|d|weeks?|wks?|months?|mos?|years?|yrs?|hours?|hrs?)\b"), " "),
    (r"\bin (?:a |an )?(?:male|female|man|woman|elderly|adult)\b", " "),
    (r"\b(left|right|l|r|lt|rt)[- ]sided\b", r" \1 "),
    # "both eyes", "both knees": the Alphabetic Index's "bilateral"
    ((r"\b(?:both|b/l)\s+(?=(?:eyes|ears|knees|hips|shoulders|elbows|wrists|hands|feet|ankles|legs|arms|lungs|"
     r"kidneys|breasts|ovaries|testes|sides|lower extremities|upper extremities|lower limbs|upper limbs)\b)"),
     " bilateral "),
    (r"\b(?:recurrent|frequent|repeated) (utis?|urinary tract infections?)\b", r" \1 "),
    (r"\b(?:low back pain|lbp|lumbago) (?:with|w/) sciatica\b", " lumbago with sciatica "),
    (r"\btransaminitis\b|\belevated (?:transaminases|ast|alt|ast/alt|liver enzymes)\b",
     " elevation of levels of liver transaminase levels "),
    (r"\bhyperbilirubinemia\b", " disorder of bilirubin metabolism "),
    (r"\bhives\b", " urticaria "), (r"\bcold sores?\b|\bfever blisters?\b", " herpesviral vesicular dermatitis "),
    (r"\bplantar warts?\b", " plantar wart "), (r"\b(?:genital|anogenital|venereal) warts?\b", " anogenital warts "),
    (r"(?<!plantar )(?<!genital )\bwarts?\b", " viral wart "),
    (r"\bingrown (?:toe ?)?nails?\b|\bingrowing (?:toe ?)?nails?\b", " ingrowing nail "),
    (r"\bskin tags?\b|\bacrochordons?\b", " other hypertrophic disorders of the skin "),
    (r"\b(?:decubitus|decub|bed ?sore|pressure) (?:ulcer|injury|sore)\b|\bbed ?sores?\b", " pressure ulcer "),
    (r"\bsacrum\b|\bsacral\b(?! region)", " sacral region "),
    # joints and soft tissue
    (r"\b(?:mid(?:dle)?|thoracic|upper) back pain\b", " pain in thoracic spine "),
    (r"\btennis elbow\b", " lateral epicondylitis "), (r"\bgolfer'?s elbow\b", " medial epicondylitis "),
    (r"\bde ?quervain'?s?(?: tenosynovitis| disease| syndrome)?\b", " radial styloid tenosynovitis "),
    (r"\b(?:acl|anterior cruciate ligament) (?:tear|rupture|sprain|injury)\b|\btear of (?:the )?acl\b",
     " sprain of anterior cruciate ligament of knee "),
    (r"\b(?:mcl|medial collateral ligament) (?:tear|rupture|sprain|injury)\b",
     " sprain of medial collateral ligament of knee "),
    (r"\bbipolar (?:1|i|type 1|type i)(?: disorder)?\b|\bbipolar disorder (?:type )?(?:1|i)\b", " bipolar disorder "),
    (r"\bbipolar (?:2|ii|type 2|type ii)(?: disorder)?\b|\bbipolar disorder (?:type )?(?:2|ii)\b", " bipolar ii disorder "),
    (r"\b(?:lung|pulmonary) nodule\b(?!s)", " solitary pulmonary nodule "),
    # eyes: OD right, OS left, OU both (only beside an eye condition; OD is also an overdose)
    *(((rf"^(?=.*\b(?:eyes?|cornea\w*|conjunctiv\w*|cataracts?|glaucoma|retin\w*|macula\w*|stye|chalazion|"
       rf"hordeolum|kerat\w*|iritis|uveitis|bleph\w*|vision|visual|pterygium|amblyopia|strabismus)\b)"
       rf"(.*)\b{short}\b"), rf"\1 {side} eye ") for short, side in (("od", "right"), ("os", "left"), ("ou", "bilateral"))),
    (r"^\s*(?:hypoxia|hypoxemia)\s*$", " hypoxemia "),
    (r"\b(?:on|uses|using|with|compliant with|on home) (?:cpap|bipap|apap)\b", " "),
    (r"\bseasonal allergies\b|\bhay fever\b", " seasonal allergic rhinitis "),
    (r"\bear ?(?:pain|ache)\b|\botalgia\b", " otalgia "),
    (r"\bbppv\b|\bbenign (?:paroxysmal )?positional vertigo\b", " benign paroxysmal vertigo "),
    (r"\bstyes?\b|\bsty\b", " hordeolum externum "),
    (r"\bsubconjunctival hemorrhage\b", " conjunctival hemorrhage "),
    (r"^(?!.*\b(?:foreign|fb)\b)(.*?)\bcorneal abrasion\b", r"\1 injury of conjunctiva and corneal abrasion without foreign body , "),
    (r"\bdry eyes?(?: syndrome)?\b", " dry eye syndrome of lacrimal gland "),
)

# Defaults the alphabetic index applies when a detail is not written (words added to the
# statement): (when, unless, before, after); an `after` starting with "$" is said after the whole
# statement.
DEFAULTS: tuple[tuple[str, str, str, str], ...] = (
    # Thrombosis, vein, deep: acute unless chronic is written (I82.4-)
    (r"\bdeep vein thrombosis\b", r"\bchronic\b|\bold\b|\bhistory\b", "acute ", ""),
    # Hepatitis, viral, C (B19.20), B (B19.10): acute and chronic are written when meant
    (r"\bhepatitis [bc]\b", r"\bacute\b|\bchronic\b|\bviral\b|\bcarrier\b|\bhistory\b", "viral ", ""),
    # Pancreatitis K85.90 (acute) unless chronic
    (r"\bpancreatitis\b", r"\bchronic\b|\bacute\b|\bautoimmune\b|\bhereditary\b", "acute ", ""),
    # Tonsillitis (acute) J03.90
    (r"\btonsillitis\b", r"\bchronic\b|\brecurrent\b|\bhypertrophy\b", "acute ", ""),
    (r"\bdeep vein thrombosis\b", (r"\b(?:upper|arm|neck|jugular|subclavian|axillary|brachial|radial|"
     r"ulnar|lower|leg|calf|thigh|femoral|popliteal|tibial|peroneal|iliac|extremity|limb)\b"), "",
     " of lower extremity"),
    # Stenosis, aortic (valve) I35.0; Insufficiency, aortic / mitral: nonrheumatic unless stated
    (r"\baortic (?:valve )?(?:stenosis|insufficiency)\b|\bmitral (?:valve )?insufficiency\b",
     r"\brheumatic\b|\bmitral stenosis\b|\bcongenital\b", "nonrheumatic ", ""),
    # Infarct, myocardial, ST elevation, anterior / inferior (wall) NEC: the other coronary
    # artery of that wall (I21.09, I21.19) when no artery is written
    ((r"\b(?:anterior|anterolateral|anteroseptal|inferior|inferolateral|inferoposterior)\b.*"
      r"\bst elevation myocardial infarction\b|\bst elevation myocardial infarction\b.*\b(?:anterior|inferior)\b"),
     r"\bcoronary\b|\bartery\b|\bsubsequent\b|\bnon st\b|\bhistory\b|\bold\b", "",
     "$, involving other coronary artery"),
    # a side names the ear of an otitis ("L AOM": H66.92)
    (r"\botitis\b|\botalgia\b|\bcerumen\b|\bvertigo\b|\btinnitus\b", r"\bear\b|^(?!.*\b(?:left|right|bilateral)\b)", "", "$ear"),
    # Disorder, depressive, major: single episode (F32.9) unless recurrent
    (r"\bmajor depressive disorder\b|\bmajor depression\b", r"\brecurrent\b|\bsingle\b", "",
     " single episode"),
)
