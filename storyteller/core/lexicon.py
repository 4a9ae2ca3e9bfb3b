"""Word lists for the heuristic planner: what counts as a character, a place, a verb of motion.

spaCy's parser (planners/reading/) says how the words of a sentence relate; these lists say what the
words mean for a film: which nouns are alive, which are places or clothes, which verbs the animatic can
move, which roles name one person ("the detective" after "Inspector Okafor"). A user can read exactly
why a word became a sprite.
"""

from __future__ import annotations

from functools import lru_cache

# fmt: off
# (word lists read best as paragraphs)

FEMALE = {
    "girl", "woman", "queen", "princess", "witch", "mother", "mom", "mum", "grandmother", "grandma",
    "sister", "lady", "daughter", "aunt", "wife", "mermaid", "fairy", "granddaughter", "niece", "bride",
    "mrs", "ms", "miss", "nun", "duchess", "empress", "mommy", "mama", "heroine", "actress",
}
MALE = {
    "boy", "man", "king", "prince", "father", "dad", "grandfather", "grandpa", "brother", "gentleman",
    "son", "uncle", "husband", "knight", "wizard", "farmer", "merman", "fisherman", "sailor", "grandson",
    "nephew", "groom", "sir", "lord", "mr", "monk", "duke", "emperor", "sultan", "daddy", "papa",
}
PEOPLE = FEMALE | MALE | {
    "child", "kid", "person", "baby", "friend", "student", "teacher", "doctor", "chef", "cook", "dancer",
    "hero", "soldier", "pirate", "astronaut", "robot", "alien", "ghost", "giant", "monster", "detective",
    "pilot", "singer", "artist", "scientist", "ninja", "vampire", "zombie", "elf", "troll", "ogre",
    "superhero", "villain", "skier", "firefighter", "clown", "guard", "mermaid", "fisherman", "fishermen",
    "sailor", "sailors", "captain", "hunter", "shepherd", "painter", "traveler", "traveller", "stranger",
    "neighbor", "neighbour", "nurse", "police", "policeman", "officer", "boxer", "player", "musician",
    "baker", "seller", "vendor", "merchant", "shopkeeper", "violinist", "pianist", "inspector", "commander",
    "sergeant", "constable", "investigator", "sleuth", "professor", "engineer", "mechanic", "driver",
    "passenger", "explorer", "king", "queen", "thief", "robber", "burglar", "judge", "lawyer",
    "priest", "farmer", "gardener", "fisher", "miner", "carpenter", "blacksmith", "tailor", "butcher",
    "waiter", "waitress", "customer", "shopper", "tourist", "visitor", "guest", "host", "servant", "maid",
    "butler", "cowboy", "warrior", "wizard", "witch", "sorcerer", "magician", "princess", "prince",
    "adult", "toddler", "teenager", "twin", "parent", "grandparent", "sibling", "cousin", "boss",
    "worker", "crew", "admiral", "general", "colonel", "lieutenant", "chief", "leader",
    "narrator", "poet", "writer", "author", "reporter", "photographer", "athlete", "runner", "climber",
    "diver", "surfer", "skater", "knight", "squire", "peasant", "villager", "hermit", "beggar", "orphan",
    "android", "droid", "cyborg", "man", "woman", "lady", "gentleman", "boy", "girl",
    "mayor", "pupil", "classmate", "teammate", "coach", "referee", "champion",
    "challenger", "opponent", "fan", "spectator", "goblin", "gnome", "dwarf", "fairy",
} | {"crowd", "people", "family", "audience", "army", "band", "choir", "gang"
}
ANIMALS = {
    "hamster", "dog", "puppy", "cat", "kitten", "bear", "fox", "wolf", "rabbit", "bunny", "mouse", "bird",
    "owl", "eagle", "duck", "horse", "pony", "cow", "pig", "sheep", "lion", "tiger", "elephant", "monkey",
    "frog", "fish", "whale", "dolphin", "shark", "turtle", "snake", "deer", "squirrel", "penguin",
    "unicorn", "dinosaur", "godzilla", "dragon", "butterfly", "bee", "spider", "octopus", "chicken",
    "goat", "panda", "koala", "kangaroo", "giraffe", "zebra", "camel", "parrot", "swan", "raccoon",
    "hedgehog", "otter", "crab", "snail", "dove", "goose", "llama", "gorilla", "sloth", "badger",
    "hare", "tortoise", "gull", "seagull", "crow", "raven", "sparrow", "robin", "pigeon", "hen", "rooster",
    "lamb", "calf", "foal", "donkey", "mule", "ox", "bull", "buffalo", "moose", "elk", "boar", "mole",
    "ant", "beetle", "ladybug", "caterpillar", "worm", "bat", "hawk", "falcon", "vulture", "peacock",
    "flamingo", "pelican", "stork", "heron", "seal", "walrus", "lobster", "jellyfish", "squid", "eel",
    "salmon", "trout", "cub", "kitty", "pup", "lizard", "crocodile", "alligator", "toad", "hippo",
    "hippopotamus", "rhino", "rhinoceros", "cheetah", "leopard", "panther", "jaguar", "puma", "lynx",
    "weasel", "ferret", "beaver", "porcupine", "skunk", "chipmunk", "mice", "rat", "guinea pig", "magpie",
    "woodpecker", "owlet", "duckling", "chick", "piglet", "fawn", "stallion", "mare", "griffin",
    "phoenix", "yeti", "robot",
}
ANIMATE = PEOPLE | ANIMALS

# Multi-word nouns that must stay together ("teddy bear" is not a bear that is teddy).
COMPOUNDS = {
    "teddy bear", "boxing ring", "boxing gloves", "boxing glove", "polar bear", "fire engine",
    "hot air balloon", "christmas tree", "snow globe", "ice cream", "street light", "traffic light",
    "birthday cake", "fire truck", "space ship", "spaceship",
}

PLACES = {
    "ring", "path", "road", "street", "avenue", "forest", "woods", "city", "town", "village", "beach",
    "sea", "ocean", "lake", "river", "park", "garden", "house", "home", "school", "castle", "mountain",
    "mountains", "hill", "hills", "field", "meadow", "desert", "space", "kitchen", "room",
    "bedroom", "classroom", "stage", "arena", "stadium", "market", "shop", "store", "cafe", "restaurant",
    "library", "office", "station", "airport", "harbor", "harbour", "island", "jungle", "cave", "bridge",
    "farm", "playground", "yard", "church", "palace", "tower", "valley", "square", "plaza", "alley",
    "subway", "boulevard", "lane", "trail", "shore", "pond", "volcano", "cityscape", "downtown", "hall",
    "cockpit", "cabin", "deck", "corridor", "hallway", "cellar", "attic", "barn", "stable",
    "port", "dock", "pier", "quay", "bay", "coast", "cliff", "canyon", "glacier", "tundra", "prairie",
    "orchard", "vineyard", "swamp", "marsh", "riverbank", "waterfall", "lagoon", "reef", "temple",
    "museum", "theater", "theatre", "cinema", "gym", "hospital", "prison", "factory", "workshop", "bakery",
    "laboratory", "lab", "courtyard", "rooftop", "roof", "balcony", "porch", "lighthouse",
    "mill", "inn", "tavern", "hut", "cottage", "camp", "campsite", "planet", "galaxy",
    "grove", "dune", "oasis", "plain", "steppe", "fjord", "highway", "pass", "marketplace", "bazaar",
}
CLOTHING = {
    "gloves", "glove", "jacket", "coat", "hat", "scarf", "boots", "dress", "shirt", "helmet", "glasses",
    "sunglasses", "cape", "crown", "backpack", "umbrella", "mittens", "sweater", "hood", "cloak",
    "armor", "armour", "shoes", "skirt", "tie", "necktie", "bow", "mask", "apron", "kimono", "socks",
}
# Sizes the animatic draws things at, as a fraction of the picture's height.
HUGE = {"godzilla", "dinosaur", "giant", "monster", "whale", "volcano", "castle", "tower", "t-rex"}
LARGE = {"dragon", "elephant", "bear", "horse", "giraffe", "robot", "ogre", "troll", "tree", "ship"}
SMALL = {"hamster", "mouse", "bird", "butterfly", "bee", "spider", "frog", "snail", "kitten", "puppy",
         "squirrel", "crab", "ball", "apple", "cup", "key", "coin", "flower"}

# Things that live in the sky, so the animatic draws them high.
SKY_THINGS = {
    "fireworks", "firework", "sun", "moon", "star", "stars", "cloud", "clouds", "bird", "birds",
    "airplane", "plane", "balloon", "kite", "rocket", "comet", "rainbow", "helicopter", "owl", "eagle",
    "dove", "butterfly", "dragon", "ufo", "meteor", "lightning",
}
# Celestial bodies: in the sky, never characters ("the Moon hangs full", "the red plains of Mars").
CELESTIAL = {
    "sun", "moon", "earth", "mars", "venus", "mercury", "jupiter", "saturn", "uranus", "neptune", "pluto",
    "phobos", "deimos", "titan", "europa", "io", "ganymede", "callisto", "milky way", "andromeda", "sirius",
    "polaris", "orion", "the sun", "the moon", "the earth",
}  # fmt: skip
# Nouns never worth a sprite.
NOT_ENTITIES = {
    "hand", "hands", "face", "eyes", "eye", "head", "arm", "arms", "leg", "legs", "feet", "foot",
    "everything", "something", "nothing", "anything", "day", "time", "way", "lot", "pair", "kind",
    "moment", "while", "end", "side", "front", "view", "shot", "style", "animation", "definition",
    "quality", "morning", "evening", "night", "afternoon", "sunset", "sunrise", "dawn", "dusk",
    "noon", "midnight", "snow", "rain", "fog", "wind", "weather", "storm", "lightning", "thunder", "help",
    "sky", "everyone", "someone", "nobody", "anyone", "asleep", "quilt", "light", "air", "world",
    "life", "story", "one", "close", "up", "4k", "hd", "rest", "edge", "middle", "top", "bottom",
    # the camera's and the film's words, never in the picture
    "camera", "lens", "frame", "framing", "focus", "angle", "closeup", "close-up", "tracking", "pan", "zoom",
    "dolly", "footage", "cut", "scene", "timing", "atmosphere", "mood", "tone", "palette", "composition",
    "transition", "movement", "gesture", "generation", "sound", "silence", "realism", "aesthetic", "vibe",
}
DETERMINERS = {
    "a", "an", "the", "his", "her", "their", "its", "my", "our", "your", "this", "that", "these", "those",
    "some", "two", "three", "four", "five", "many", "several", "every", "each",
}
PRONOUNS = {
    "he": "m", "him": "m", "his": "m", "himself": "m",
    "she": "f", "her": "f", "hers": "f", "herself": "f",
    "they": "p", "them": "p", "their": "p", "it": "n", "its": "n",
}
PREPOSITIONS = {
    "in": "in", "inside": "in", "into": "in", "within": "in",
    "on": "on", "onto": "on", "atop": "on", "upon": "on",
    "above": "above", "over": "above",
    "under": "under", "below": "under", "beneath": "under", "underneath": "under",
    "near": "near", "beside": "near", "by": "near", "with": "near", "next": "near", "toward": "near",
    "towards": "near", "behind": "behind", "for": "facing", "at": "near", "around": "near",
}
LOCATION_PREPOSITIONS = {
    "in", "inside", "into", "at", "on", "along", "down", "through", "across", "around", "up",
    "over", "near", "to", "from", "toward", "towards", "above", "under", "beneath", "behind", "outside",
    "reached", "reaches", "entered", "enters", "approached",
}
FUNCTION_WORDS = set(PREPOSITIONS) | set(LOCATION_PREPOSITIONS) | DETERMINERS | set(PRONOUNS) | {
    "and", "or", "but", "is", "are", "was", "were", "be", "been", "being", "of", "as", "like", "then",
    "when", "while", "so", "very", "not", "no", "who", "which", "what", "where", "there", "here",
    "named", "called", "wearing", "holding", "has", "had", "have", "do", "did", "does", "just", "all",
    "after", "before", "until", "once", "suddenly", "finally", "slowly", "quickly", "again", "too",
}

# Concrete nouns no emoji is named after, but a story often draws.
COMMON_NOUNS = {
    "boat", "ship", "seagull", "gull", "moon", "village", "barrel", "lantern", "bush", "bushes", "stone",
    "box", "bag", "cake", "table", "wall", "fence", "gate", "window", "rope", "flag", "lamp", "torch", "sword",
    "wand", "stick", "ball", "toy", "doll", "letter", "map", "treasure", "chest", "bottle", "bench", "cart",
    "wagon", "car", "truck", "plane", "tree", "trees", "flower", "flowers", "leaf", "leaves", "branch",
    "nest", "egg", "stars", "waves", "wave", "water", "splash", "smoke", "flames", "flame", "campfire",
    "firework", "present", "gift", "sled", "snowball", "kite", "boots", "basket", "shell", "pearl", "paw",
}
# Words ending in -ing that are nouns, not participles.
ING_NOUNS = {
    "morning", "evening", "king", "ring", "thing", "building", "ceiling", "wing", "string", "spring",
    "swing", "painting", "clothing", "pudding", "wedding", "sibling", "duckling", "ending", "lightning",
    "offspring", "stocking", "stuffing", "icing", "sapling", "clearing", "dumpling", "viking",
}
GROUP_NOUNS = {"crowd", "people", "family", "audience", "army", "band", "choir", "class", "gang"}

# Canonical verbs the animatic knows how to move, with the word forms that name them.
VERBS: dict[str, tuple[str, ...]] = {
    "walk": ("walk", "walks", "walked", "walking", "stroll", "strolls", "strolled", "strolling",
             "wander", "wanders", "wandered", "wandering", "coming", "came", "comes", "went", "goes",
             "going", "march", "marched", "marching", "step", "stepped", "stepping", "trudged", "trudging"),
    "run": ("run", "runs", "ran", "running", "rush", "rushed", "rushing", "dash", "dashed", "dashing",
            "race", "raced", "racing", "chase", "chased", "chasing", "sprint", "sprinted", "flee", "fled"),
    "jump": ("jump", "jumps", "jumped", "jumping", "leap", "leaps", "leapt", "leaped", "leaping", "hop",
             "hops", "hopped", "hopping", "bounce", "bounced", "bouncing", "skip", "skipped", "skipping"),
    "fly": ("fly", "flies", "flew", "flying", "soar", "soars", "soared", "soaring", "glide", "glided",
            "gliding", "float", "floated", "floating", "hover", "hovered", "hovering"),
    "fall": ("fall", "falls", "fell", "falling", "drop", "dropped", "dropping", "tumble", "tumbled",
             "tumbling", "trip", "tripped", "slip", "slipped", "slipping", "collapse", "collapsed"),
    "punch": ("punch", "punches", "punched", "punching", "hit", "hits", "hitting", "strike", "strikes",
              "struck", "fight", "fights", "fought", "fighting", "box", "boxes", "boxed", "kick", "kicked",
              "kicking", "attack", "attacked", "attacking"),
    "spin": ("spin", "spins", "spun", "spinning", "twirl", "twirled", "twirling", "whirl", "whirled",
             "whirling", "rotate", "rotated", "rotating", "roll", "rolled", "rolling"),
    "grow": ("grow", "grows", "grew", "growing", "expand", "expanded", "swell", "swelled", "rise",
             "rises", "rose", "rising", "tower", "towered"),
    "shrink": ("shrink", "shrinks", "shrank", "shrinking", "shrunk"),
    "explode": ("explode", "explodes", "exploded", "exploding", "burst", "bursts", "bursting", "blast",
                "blasted", "erupt", "erupted", "erupting", "displayed", "display", "displaying", "boom"),
    "roar": ("roar", "roars", "roared", "roaring", "shout", "shouted", "shouting", "scream", "screamed",
             "screaming", "yell", "yelled", "yelling", "growl", "growled", "howl", "howled", "cheer",
             "cheered", "cheering", "sing", "sang", "singing", "laugh", "laughed", "laughing"),
    "raise": ("raise", "raises", "raised", "raising", "lift", "lifted", "lifting"),
    "burn": ("burn", "burns", "burned", "burnt", "burning", "blaze", "blazed", "blazing", "flame",
             "flicker", "flickered", "flickering", "glow", "glowed", "glowing", "shine", "shone", "shining",
             "sparkle", "sparkled", "sparkling", "twinkle", "twinkled", "twinkling"),
    "dance": ("dance", "dances", "danced", "dancing", "sway", "swayed", "swaying"),
    "wave": ("wave", "waves", "waved", "waving", "greet", "greeted", "greeting"),
    "swim": ("swim", "swims", "swam", "swimming", "dive", "dived", "dove", "diving"),
    "shake": ("shake", "shakes", "shook", "shaking", "tremble", "trembled", "trembling", "shiver",
              "shivered", "shivering"),
    "talk": ("say", "says", "said", "saying", "talk", "talks", "talked", "talking", "speak", "speaks", "spoke",
             "speaking", "ask", "asks", "asked", "asking", "whisper", "whispers", "whispered", "reply", "replies",
             "replied", "answer", "answered"),
    "sit": ("sit", "sits", "sat", "sitting", "rest", "rested", "resting", "sleep", "slept", "sleeping",
            "lie", "lay", "lying"),
    "climb": ("climb", "climbs", "climbed", "climbing", "scramble", "scrambled"),
    "appear": ("appear", "appears", "appeared", "appearing", "arrive", "arrived", "arrives", "emerge",
               "emerged", "emerging"),
    "vanish": ("vanish", "vanished", "disappear", "disappeared", "disappears", "leave", "left", "leaves"),
}
VERB_FORMS = {form: verb for verb, forms in VERBS.items() for form in forms}
for _form, _verb in list(VERB_FORMS.items()):  # third person: "laughs", "sleeps", "rushes"
    if not _form.endswith(("s", "ed", "ing")):
        VERB_FORMS.setdefault(_form + ("es" if _form.endswith(("sh", "ch", "x")) else "s"), _verb)
# Phrases that mean something other than their verb.
PHRASE_VERBS = {"fell asleep": "sit", "falls asleep": "sit", "curled up": "sit", "lay down": "sit",
                "sat down": "sit", "grew up": "grow", "stood up": "raise", "woke up": "raise"}
# A weather word with one of these ends that weather: "the storm was gone".
WEATHER_ENDS = {"gone", "passed", "stopped", "cleared", "ended", "over", "faded"}
# "throwing punches": a light verb whose object names the action.
NOUN_ACTIONS = {"punches": "punch", "kicks": "punch", "jumps": "jump", "somersaults": "spin"}

TIME_WORDS = {
    "dawn": "dawn", "daybreak": "dawn", "sunrise": "dawn", "morning": "morning", "noon": "day",
    "afternoon": "day", "daytime": "day", "sunset": "sunset", "evening": "dusk", "dusk": "dusk",
    "twilight": "dusk", "night": "night", "midnight": "night", "nighttime": "night", "moonlight": "night",
    "moonlit": "night", "starry": "night", "dark": "night",
}
WEATHER_WORDS = {
    "snow": "snow", "snowy": "snow", "snowing": "snow", "frosty": "snow", "frost": "snow", "blizzard": "snow",
    "snowflakes": "snow", "snowfall": "snow", "winter": "snow", "rain": "rain", "rainy": "rain",
    "raining": "rain", "drizzle": "rain", "downpour": "rain", "storm": "storm", "stormy": "storm",
    "thunder": "storm", "lightning": "storm", "fog": "fog", "foggy": "fog", "mist": "fog", "misty": "fog",
    "cloudy": "cloudy", "overcast": "cloudy", "sunny": "clear", "clear": "clear",
}
CAMERA_PHRASES = [
    ("close up", "close_up"), ("close-up", "close_up"), ("closeup", "close_up"), ("zoom in", "zoom_in"),
    ("zooms in", "zoom_in"), ("zoom out", "zoom_out"), ("zooms out", "zoom_out"), ("wide shot", "wide"),
    ("aerial", "wide"), ("from above", "wide"), ("pan left", "pan_left"), ("pans left", "pan_left"),
    ("pan right", "pan_right"), ("pans right", "pan_right"), ("tilt up", "tilt_up"),
    ("tilt down", "tilt_down"), ("front view", "static"),
]


# fmt: on


@lru_cache(maxsize=1)
def drawable_nouns() -> frozenset[str]:
    """Single-word emoji names (minus flags): a ready-made list of concrete, drawable nouns."""
    import emoji

    nouns: set[str] = set()
    for data in emoji.EMOJI_DATA.values():
        name = data["en"].strip(":")
        if data.get("status") != 2 or "_" in name or name[:1].isupper():
            continue
        nouns.add(name.lower())
    return frozenset(nouns - FUNCTION_WORDS - NOT_ENTITIES - {"fly", "watch", "ring", "star-struck"})


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


# fmt: off
# --- story reading (planners/reading/) ------------------------------------------------------------
# Personal pronouns: (person, gender/number): "m", "f", "n" (it), "p" (plural), "?" (I, you).
PERSONAL = {
    "he": (3, "m"), "him": (3, "m"), "his": (3, "m"), "himself": (3, "m"),
    "she": (3, "f"), "her": (3, "f"), "hers": (3, "f"), "herself": (3, "f"),
    "it": (3, "n"), "its": (3, "n"), "itself": (3, "n"),
    "they": (3, "p"), "them": (3, "p"), "their": (3, "p"), "theirs": (3, "p"), "themselves": (3, "p"),
    "i": (1, "?"), "me": (1, "?"), "my": (1, "?"), "mine": (1, "?"), "myself": (1, "?"),
    "we": (1, "p"), "us": (1, "p"), "our": (1, "p"), "ours": (1, "p"), "ourselves": (1, "p"),
    "you": (2, "?"), "your": (2, "?"), "yours": (2, "?"), "yourself": (2, "?"),
}
# Titles before a name, and the role each means: "Captain Amara Diallo" is Amara, a captain.
TITLES = {
    "captain": "captain", "capt": "captain", "inspector": "inspector", "detective": "detective",
    "dr": "doctor", "doctor": "doctor", "mr": "man", "mrs": "woman", "ms": "woman", "miss": "woman",
    "mister": "man", "madam": "woman", "professor": "professor", "prof": "professor", "sir": "knight",
    "lady": "lady", "lord": "lord", "king": "king", "queen": "queen", "prince": "prince",
    "princess": "princess", "aunt": "aunt", "auntie": "aunt", "uncle": "uncle", "grandma": "grandmother",
    "grandpa": "grandfather", "granny": "grandmother", "grandfather": "grandfather", "grandmother": "grandmother",
    "officer": "officer", "sergeant": "sergeant",
    "sgt": "sergeant", "general": "general", "colonel": "colonel", "lieutenant": "lieutenant",
    "commander": "commander", "admiral": "admiral", "chief": "chief", "agent": "agent", "nurse": "nurse",
    "coach": "coach", "judge": "judge", "saint": "saint", "master": "master", "dame": "lady",
}
# Kinship words used as names ("Dad took me camping"): the kind they stand for.
KIN = {
    "dad": "father", "daddy": "father", "papa": "father", "pa": "father", "mom": "mother", "mum": "mother",
    "mommy": "mother", "mummy": "mother", "mama": "mother", "ma": "mother", "grandma": "grandmother",
    "grandpa": "grandfather", "granny": "grandmother", "nana": "grandmother", "grandad": "grandfather",
    "grandfather": "grandfather", "grandmother": "grandmother", "father": "father", "mother": "mother",
}
# Roles that name one person in different words ("Inspector Okafor ... the detective").
ROLE_CLUSTERS = [
    {"detective", "inspector", "investigator", "sleuth", "officer", "policeman", "policewoman", "sergeant",
     "constable", "agent", "cop"},
    {"captain", "commander", "skipper", "pilot", "admiral", "chief", "leader", "colonel", "general"},
    {"doctor", "physician", "surgeon", "medic"},
    {"doctor", "scientist", "researcher", "professor", "inventor", "chemist", "physicist"},
    {"teacher", "professor", "tutor", "instructor", "schoolteacher"},
    {"king", "monarch", "ruler", "sovereign", "emperor"},
    {"queen", "monarch", "ruler", "sovereign", "empress"},
    {"seller", "vendor", "merchant", "shopkeeper", "trader", "stallholder", "fruit seller"},
    {"robot", "droid", "android", "machine", "bot", "automaton"},
    {"wizard", "sorcerer", "magician", "mage", "enchanter"},
    {"father", "dad", "daddy", "papa"},
    {"mother", "mom", "mum", "mommy", "mama"},
]
ROLE_OF: dict[str, set[int]] = {}
for _n, _cluster in enumerate(ROLE_CLUSTERS):
    for _word in _cluster:
        ROLE_OF.setdefault(_word, set()).add(_n)
# Capitalised words that are never names.
NOT_NAMES = {
    "the", "a", "an", "then", "when", "suddenly", "finally", "once", "one", "every", "yes", "no", "oh",
    "hello", "hi", "goodbye", "bye", "thanks", "please", "okay", "ok", "god", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april",
    "may", "june", "july", "august", "september", "october", "november", "december", "christmas",
    "easter", "halloween", "spring", "summer", "autumn", "fall", "winter", "north", "south", "east",
    "west", "chapter", "part", "act", "scene", "int", "ext", "the end", "later", "meanwhile", "there",
    "here", "now", "today", "tonight", "tomorrow", "yesterday", "last", "next", "at", "in", "on", "with",
    "after", "before", "as", "while", "but", "and", "so", "if", "what", "who", "why", "how", "where",
}
# "a piece of cheese" is cheese, "a crowd of people" is people.
QUANTITY_WORDS = {
    "piece", "slice", "bit", "lot", "pair", "group", "bunch", "couple", "handful", "set", "pack", "herd",
    "flock", "crowd", "swarm", "school", "pod", "litter", "number", "kind", "sort", "type", "heap", "pile",
    "stack", "row", "line", "trail", "drop", "lump", "chunk", "strip", "sheet", "scrap", "loaf", "cloud",
    "spray", "shower", "stream", "flash", "beam", "ray", "gust", "puff", "wisp", "speck",
}
# "a basket of fish" is a basket (with fish in it), never a fish character.
CONTAINERS = {
    "basket", "box", "bag", "bucket", "cup", "jar", "bottle", "plate", "bowl", "sack", "barrel", "crate",
    "cart", "glass", "pot", "tray", "can", "mug", "jug", "chest", "net", "cage", "tank", "tin", "pail",
    "wagon", "truck", "boat", "purse", "pocket", "case", "vase", "kettle", "pan", "dish", "carton",
}
BODY_PARTS = {
    "hand", "face", "eye", "head", "arm", "leg", "foot", "feet", "finger", "toe", "shoulder", "knee",
    "elbow", "back", "neck", "chest", "belly", "stomach", "tail", "paw", "claw", "wing", "beak", "fin",
    "fur", "feather", "whisker", "ear", "nose", "mouth", "lip", "tooth", "teeth", "tongue", "hair",
    "beard", "moustache", "mustache", "cheek", "chin", "forehead", "brow", "eyebrow", "heart", "skin",
    "hoof", "horn", "trunk", "snout", "muzzle", "mane", "scale", "shell", "antenna", "lap", "hip",
    "wrist", "ankle", "thumb", "fist", "palm", "body", "voice", "breath", "throat", "spine", "bone",
}
# Nouns that never live, whatever they seem to do ("the speakers crackled", "the clock laughed").
INANIMATE = {
    "speaker", "signal", "radio", "clock", "phone", "computer", "screen", "engine", "wind", "rain", "sun",
    "moon", "sea", "river", "fire", "door", "bell", "car", "ship", "boat", "train", "storm", "thunder",
    "probe", "machine", "tree", "leaf", "house", "heart", "voice",
}
# Verbs whose subject is alive: speaking, feeling, thinking, sleeping.
SPEECH_VERBS = {
    "say", "ask", "boast", "reply", "whisper", "shout", "cry", "call", "answer", "explain", "tell", "add",
    "mutter", "exclaim", "scream", "yell", "laugh", "giggle", "sigh", "murmur", "announce", "insist",
    "agree", "promise", "warn", "beg", "protest", "grumble", "chuckle", "snap", "declare", "suggest",
    "wonder", "squeak", "bark", "growl", "roar", "chirp", "hiss", "squawk", "continue", "admit", "remark",
    "respond", "shriek", "sob", "stammer", "stutter", "gasp", "plead", "order", "command", "repeat",
}
LIVING_VERBS = SPEECH_VERBS | {
    "think", "know", "smile", "grin", "frown", "weep", "sleep", "wake", "decide", "want", "hope", "wish",
    "love", "hate", "fear", "feel", "remember", "forget", "nod", "wink", "shrug", "kneel", "yawn",
    "whistle", "sing", "dance", "eat", "drink", "hug", "kiss", "greet", "thank", "scold", "blink",
    "stare", "gaze", "glance", "watch", "listen", "hear", "see", "notice", "realise", "realize", "walk",
    "run", "climb", "swim", "jump", "hop", "crawl", "sneak", "tiptoe", "wave", "cheer", "sniff", "lick",
    "bite", "chase", "hunt", "play", "learn", "teach", "help", "carry", "sell", "buy", "pay", "cook",
    "bake", "paint", "carve", "write", "read", "study", "trace", "steer", "pilot", "drive", "ride",
    "plod", "dash", "scurry", "wag", "pounce", "purr", "meow", "howl", "chatter", "waddle", "trot",
    "gallop", "sit", "stand", "lie", "rest", "wait", "pray", "cry", "die", "breathe",
}
ABSTRACT = {
    "race", "tune", "step", "hour", "minute", "second", "year", "week", "month", "idea", "plan", "way",
    "thing", "story", "time", "moment", "chance", "luck", "fun", "joy", "fear", "love", "hope", "anger",
    "silence", "noise", "sound", "voice", "word", "name", "question", "answer", "reason", "mind", "dream",
    "memory", "thought", "secret", "truth", "lie", "problem", "game", "turn", "trip", "journey", "adventure",
    "lesson", "surface", "distance", "direction", "side", "half", "part", "rest", "place", "spot", "air",
    "attention", "care", "courage", "strength", "speed", "power", "magic", "news", "message", "signal",
    "laughter", "tear", "sleep", "breakfast", "lunch", "dinner", "supper", "meal", "life", "death",
    "push", "pull", "look", "glance", "smile", "nod", "wink", "shout", "cry", "laugh", "sigh", "kiss",
    "hug", "bow", "kick", "punch", "jump", "walk", "run", "ride", "swim", "help", "work", "job", "shape",
    "colour", "color", "size", "age", "passenger", "finish", "start", "beginning", "middle", "tip",
}
ABSTRACT |= {"summer", "winter", "spring", "autumn", "season", "holiday", "weekend", "today", "tomorrow"}
ABSTRACT_ENDINGS = ("ness", "tion", "sion", "ity", "ment", "ance", "ence", "ship", "dom", "ism", "hood")
# Past forms the tagger may take for nouns ("The detective knelt").
IRREGULAR_PAST = {
    "knelt", "crept", "slept", "wept", "swept", "leapt", "dreamt", "spoke", "stood", "sat", "lay", "ran",
    "swam", "sang", "rang", "flew", "grew", "threw", "drew", "blew", "knew", "fought", "caught", "taught",
    "brought", "thought", "bought", "sought", "held", "told", "sold", "felt", "dealt", "meant", "built",
    "sent", "spent", "lent", "bent", "woke", "broke", "froze", "chose", "rode", "wrote", "drove", "rose",
    "shook", "took", "forsook", "hid", "bit", "lit", "slid", "fled", "led", "fed", "bled", "sped",
    "crackled", "steered", "agreed", "whistled", "bobbed", "plodded",
}
# Plurals that are the thing itself ("glasses", "fireworks"), not many of it.
PLURAL_KEEP = {"glasses", "sunglasses", "fireworks", "pants", "trousers", "scissors", "clothes", "stairs"}
# Adjectives that say nothing about a look ("the same", "other", "own").
NOT_LOOKS = {
    "same", "other", "own", "first", "last", "next", "only", "whole", "such", "certain", "very",
    "few", "many", "much", "more", "most", "several", "another", "various", "entire", "main", "real",
    "asleep", "awake", "alone", "ready", "sure", "able", "unable", "gone", "lost", "late", "early", "busy",
    "free", "done", "still", "afraid", "aware", "right", "wrong", "there", "here",
}
# Prepositions after which a proper noun is a place ("in Oaxaca", "to Lisbon").
PLACE_PREPOSITIONS = {
    "in", "at", "to", "from", "into", "inside", "near", "across", "through", "toward", "towards",
    "outside", "around", "along", "onto", "on", "over", "above", "below", "beneath", "under", "within",
    "throughout", "beyond", "past", "down", "up", "off",
}
# what is only seen from where the story is: "over the hills", "beyond the roofs" (the story stays there)
VIEW_PREPOSITIONS = {"over", "above", "beyond", "past"}
SKYLINE = {"hill", "roof", "rooftop", "mountain", "peak", "treetop"}
PEOPLE_PLURALS = {"children", "kids", "friends", "people", "twins", "siblings", "companions", "pair"}
# what a thing is made of: "a silk fan", "a wooden horse", "a stone lion", "a toy soldier" are things
MATERIALS = {
    "silk", "paper", "wooden", "wood", "stone", "plastic", "metal", "tin", "clay", "glass", "porcelain", "plush",
    "toy", "cardboard", "brass", "bronze", "marble", "jade", "iron", "steel", "straw", "rubber", "origami",
    "ceramic", "paper-mache", "papier-mache", "felt", "wax",  # (not "golden", "silver": a retriever, a fox)
}  # fmt: skip
# nouns that point at someone without saying who: "the stranger", "the newcomer" is whoever came in last;
# "the figure", "two silhouettes" whoever is about and not named otherwise in the sentence
NEWCOMER_WORDS = {"stranger", "newcomer", "intruder", "arrival"}
FIGURE_WORDS = {"figure", "silhouette"}

NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "both": 2, "pair": 2, "couple": 2}
# fmt: on

# fmt: off
# "her daughter Ольга": what Ольга calls her ("mother"), and the gender each word implies.
KIN_INVERSE = {
    "daughter": ("mother", "father", "parent", "mom", "mum", "dad"),
    "son": ("mother", "father", "parent", "mom", "mum", "dad"),
    "child": ("mother", "father", "parent"), "sister": ("sister", "brother", "sibling"),
    "brother": ("sister", "brother", "sibling"), "mother": ("daughter", "son", "child"),
    "father": ("daughter", "son", "child"), "wife": ("husband",), "husband": ("wife",),
    "grandmother": ("granddaughter", "grandson", "grandchild"),
    "grandfather": ("granddaughter", "grandson", "grandchild"),
    "granddaughter": ("grandmother", "grandfather", "grandma", "grandpa"),
    "grandson": ("grandmother", "grandfather", "grandma", "grandpa"),
    "aunt": ("niece", "nephew"), "uncle": ("niece", "nephew"), "friend": ("friend",),
}
KIN_GENDER = {
    "mother": "f", "mom": "f", "mum": "f", "father": "m", "dad": "m", "sister": "f", "brother": "m",
    "daughter": "f", "son": "m", "husband": "m", "wife": "f", "grandmother": "f", "grandfather": "m",
    "grandma": "f", "grandpa": "m", "granddaughter": "f", "grandson": "m", "niece": "f", "nephew": "m",
}
# Verbs done to people rather than things: "waved to them" is never the posts.
SOCIAL_VERBS = SPEECH_VERBS | {
    "wave", "smile", "grin", "nod", "wink", "greet", "hug", "kiss", "thank", "help", "watch", "stare",
    "glance", "follow", "join", "meet", "teach", "tell", "warn", "scold", "comfort", "beckon", "frown",
    "bow", "salute", "invite", "hear", "listen", "introduce", "lead", "guide", "rescue", "save", "feed",
    "visit", "wake", "pet", "chase", "marry",
}
# "the boy", "the woman" find the person already met: (gender, age) the noun says.
GENERIC_PEOPLE = {
    "boy": ("m", "young"), "lad": ("m", "young"), "girl": ("f", "young"), "lass": ("f", "young"),
    "child": ("?", "young"), "kid": ("?", "young"), "man": ("m", "adult"), "gentleman": ("m", "adult"),
    "woman": ("f", "adult"), "lady": ("f", "adult"), "person": ("?", "any"), "figure": ("?", "any"),
}
YOUNG_KINDS = {
    "boy", "girl", "child", "kid", "son", "daughter", "grandson", "granddaughter", "nephew", "niece", "baby",
    "toddler", "teenager", "pupil", "student", "lad", "lass", "orphan", "princess", "prince",
}
AGENTIVE_ENDINGS = ("er", "or", "ist", "ian", "ess", "man", "woman", "maker", "smith", "keeper", "eer", "ant", "ent")
# fmt: on

MACHINES = {"robot", "droid", "android", "cyborg", "automaton", "bot", "machine", "drone"}
ANIMATE |= MACHINES - {"machine", "drone"} | {"skipper", "clockmaker", "shopkeeper", "stallholder"}  # a coffee machine
PEOPLE |= {"skipper", "clockmaker", "stallholder", "master", "mistress"}
# Verbs that state rather than act: relations or nothing, never a timed action.
STATE_VERBS = {"be", "have", "name", "call", "wear", "own", "contain", "seem", "appear_as", "belong", "remain"}

COLOURS = {
    "red",
    "green",
    "blue",
    "yellow",
    "brown",
    "black",
    "white",
    "grey",
    "gray",
    "orange",
    "purple",
    "pink",
    "gold",
    "silver",
    "violet",
    "turquoise",
    "crimson",
    "scarlet",
    "beige",
    "teal",
}
INANIMATE |= {
    "foam",
    "water",
    "smoke",
    "liquid",
    "mud",
    "sand",
    "dust",
    "snow",
    "ice",
    "steam",
    "fire",
    "light",
    "wave",
    "lava",
    "oil",
    "paint",
    "juice",
    "milk",
    "soup",
    "bubble",
    "flame",
    "spark",
    "cloud",
    "fog",
    "mist",
}
CLOTHING_ENDINGS = ("coat", "shirt", "jacket", "dress", "boots", "boot", "shoe", "hat", "scarf", "sweater", "skirt")
# "painted a dragon", "drew a horse": a picture of one, not one.
DEPICTING_VERBS = {"paint", "draw", "sketch", "carve", "sculpt", "photograph", "film", "imagine", "dream", "picture"}
IRREGULAR_PLURALS = {"children", "people", "men", "women", "mice", "geese", "sheep", "deer", "fish", "oxen", "teeth"}
PEOPLE |= {"elder", "elders", "villager", "villagers", "children", "men", "women", "townsfolk", "folk", "guests"}
ANIMATE |= PEOPLE
ANIMAL_PARTS = {
    "tail",
    "paw",
    "claw",
    "wing",
    "beak",
    "fin",
    "fur",
    "feather",
    "whisker",
    "hoof",
    "horn",
    "trunk",
    "snout",
    "muzzle",
    "mane",
    "scale",
    "antenna",
    "tusk",
    "gill",
    "talon",
}
# Prepositions after which a proper noun is a place even if the NER calls it a person ("near Kraków").
INSIDE_PREPOSITIONS = {
    "in", "inside", "into", "near", "outside", "across", "through", "around", "beyond", "within", "over", "above",
    "throughout",
}  # fmt: skip
PEOPLE |= {"conductor", "driver", "porter", "stationmaster", "ticket collector", "passenger"}
ANIMATE |= PEOPLE
# Verbs done to someone else's body: "avoids her eyes", "took his hand", "kissed her cheek".
OTHER_BODY_VERBS = {
    "avoid",
    "meet",
    "kiss",
    "take",
    "hold",
    "grab",
    "touch",
    "squeeze",
    "seize",
    "catch",
    "stroke",
    "pat",
    "examine",
    "bandage",
    "bite",
    "lick",
    "tickle",
    "search",
    "study",
    "watch",
}
# Marks on a body a prompt should carry: "a man with a scar".
MARKS = {"scar", "tattoo", "beard", "moustache", "mustache", "freckle", "spot", "stripe", "patch", "wrinkle"}
INANIMATE |= {"current", "tide", "river", "stream", "wind", "breeze", "storm", "flood", "avalanche", "sun"}
