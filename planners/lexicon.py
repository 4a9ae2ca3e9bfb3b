"""Word lists for the heuristic planner: what counts as a character, a place, a verb of motion.

Small closed lists beat a statistical tagger here: the planner must run offline, instantly and
deterministically, and a user can read exactly why a word became a sprite.
"""

from __future__ import annotations

from functools import lru_cache

# fmt: off
# (word lists read best as paragraphs)

FEMALE = {
    "girl", "woman", "queen", "princess", "witch", "mother", "mom", "mum", "grandmother", "grandma",
    "sister", "lady", "daughter", "aunt", "wife", "mermaid", "fairy",
}
MALE = {
    "boy", "man", "king", "prince", "father", "dad", "grandfather", "grandpa", "brother", "gentleman",
    "son", "uncle", "husband", "knight", "wizard", "farmer", "merman", "fisherman", "sailor", "captain",
}
PEOPLE = FEMALE | MALE | {
    "child", "kid", "person", "baby", "friend", "student", "teacher", "doctor", "chef", "cook", "dancer",
    "hero", "soldier", "pirate", "astronaut", "robot", "alien", "ghost", "giant", "monster", "detective",
    "pilot", "singer", "artist", "scientist", "ninja", "vampire", "zombie", "elf", "troll", "ogre",
    "superhero", "villain", "skier", "firefighter", "clown", "guard", "mermaid", "fisherman", "fishermen",
    "sailor", "sailors", "captain", "hunter", "shepherd", "painter", "traveler", "traveller", "stranger",
    "neighbor", "neighbour", "nurse", "police", "policeman", "officer", "boxer", "player", "musician",
} | {"crowd", "people", "family", "audience", "army", "band", "choir", "gang"
}
ANIMALS = {
    "hamster", "dog", "puppy", "cat", "kitten", "bear", "fox", "wolf", "rabbit", "bunny", "mouse", "bird",
    "owl", "eagle", "duck", "horse", "pony", "cow", "pig", "sheep", "lion", "tiger", "elephant", "monkey",
    "frog", "fish", "whale", "dolphin", "shark", "turtle", "snake", "deer", "squirrel", "penguin",
    "unicorn", "dinosaur", "godzilla", "dragon", "butterfly", "bee", "spider", "octopus", "chicken",
    "goat", "panda", "koala", "kangaroo", "giraffe", "zebra", "camel", "parrot", "swan", "raccoon",
    "hedgehog", "otter", "crab", "snail", "dove", "goose", "llama", "gorilla", "sloth", "badger",
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
    "mountains", "hill", "hills", "field", "meadow", "desert", "sky", "space", "kitchen", "room",
    "bedroom", "classroom", "stage", "arena", "stadium", "market", "shop", "store", "cafe", "restaurant",
    "library", "office", "station", "airport", "harbor", "harbour", "island", "jungle", "cave", "bridge",
    "farm", "playground", "yard", "church", "palace", "tower", "valley", "square", "plaza", "alley",
    "subway", "boulevard", "lane", "trail", "shore", "pond", "volcano", "cityscape", "downtown", "hall",
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
# Nouns never worth a sprite.
NOT_ENTITIES = {
    "hand", "hands", "face", "eyes", "eye", "head", "arm", "arms", "leg", "legs", "feet", "foot",
    "everything", "something", "nothing", "anything", "day", "time", "way", "lot", "pair", "kind",
    "moment", "while", "end", "side", "front", "view", "shot", "style", "animation", "definition",
    "quality", "morning", "evening", "night", "afternoon", "sunset", "sunrise", "dawn", "dusk",
    "noon", "midnight", "snow", "rain", "fog", "wind", "weather", "storm", "lightning", "thunder", "help",
    "sky", "everyone", "someone", "nobody", "anyone", "asleep", "quilt", "light", "air", "world",
    "life", "story", "one", "close", "up", "4k", "hd", "rest", "edge", "middle", "top", "bottom",
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
GROUP_WORDS = {"pair", "group", "bunch", "couple", "handful", "set", "team", "pack", "herd", "flock"}

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
