"""A novel-length story of our own, written by rule: chapters with headings, a recurring cast of people and
animals (names in several scripts, titles, nicknames), a dozen places, dialogue throughout.

    python benchmarks/novel.py novel.txt                 # about 13,000 words, 22 chapters
    python benchmarks/novel.py book.txt --words 100000   # as long as asked

The same arguments write the same book, byte for byte. It is a benchmark's input, not literature: what
matters is that it reads like a book to a planner (headings, names, pronouns, places, speech), and that
its length is chosen.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

# (name as first met, short form, kind, pronoun)
CAST = [
    ("Captain Amara Diallo", "Amara", "captain", "she"),
    ("Tomás Reyes, a sailor,", "Tomás", "sailor", "he"),
    ("Ольга Petrova, the lantern maker,", "Ольга", "lantern maker", "she"),
    ("Nguyễn Thị Lan, a cartographer,", "Lan", "cartographer", "she"),
    ("Kofi Mensah, a young boy,", "Kofi", "boy", "he"),
    ("Greta, an old fishwife,", "Greta", "fishwife", "she"),
    ("Doctor Søren Berg", "Søren", "doctor", "he"),
    ("Yusuf Haddad, the baker,", "Yusuf", "baker", "he"),
    ("Mei Chen, a small girl,", "Mei", "girl", "she"),
    ("Brother Anselm, a monk,", "Anselm", "monk", "he"),
]
# (name, as first met, what it does: its own kind's actions)
ANIMALS = [
    ("Pepper", "Pepper, a grey dog,", ["{x} barked at a gull and ran in circles.", "{x} followed {a} everywhere."]),
    ("Miso", "Miso, a ginger cat,", ["{x} curled up by the fire and slept.", "{x} jumped onto the table."]),
    ("Biscuit", "Biscuit, a donkey,", ["{x} trotted behind {a} with the baskets.", "{x} brayed at the gate."]),
    ("Ash", "Ash, a raven,", ["{x} flew over the roofs and landed on the chimney.", "{x} croaked from the mast."]),
]  # fmt: skip
PLACES = [
    ("the harbour town of Vessby", "harbour", "Boats knocked against the quay and gulls cried over the nets."),
    ("the salt market", "market", "Stalls of salt, fish and rope filled the square under striped awnings."),
    ("the lighthouse on the point", "lighthouse", "The white tower stood over the rocks and the grey sea."),
    ("the inn's kitchen", "kitchen", "Copper pots hung over the fire and bread cooled on the table."),
    ("the desert road", "desert", "The road ran between red dunes under a hard white sky."),
    ("the mountain pass", "mountain", "Snow lay on the rocks and the wind came down from the peaks."),
    ("the old library", "library", "Shelves of maps rose to the ceiling in the dusty light."),
    ("the pine forest", "forest", "The pines stood close and the path was soft with needles."),
    ("the river crossing", "river", "The ferry waited at the river where the water ran brown and fast."),
    ("the monastery garden", "garden", "Bees moved between the herbs behind the monastery wall."),
    ("the open sea", "sea", "Waves rolled under the ship and the sails filled with wind."),
    ("the city of Porto Salvo", "city", "Bells rang over the roofs and the streets were loud with carts."),
]
TIMES = ["at dawn", "in the morning", "at noon", "in the afternoon", "at sunset", "at dusk", "at night"]
ACTIONS = [
    "{a} walked along the path with {b}.",
    "{a} ran to meet {b} and waved.",
    "{a} sat down beside {b} and opened a map.",
    "{a} carried a basket of bread to {b}.",
    "{a} climbed the steps and looked out over the water.",
    "{a} laughed at something {b} said.",
    "{a} picked up a lantern and held it high.",
    "{a} pointed at the horizon, and {b} nodded.",
    "{a} tied the rope to the post and pulled it tight.",
    "{a} jumped over a puddle while {b} watched.",
    "{a} handed {b} a small wooden box.",
    "{a} waited by the door until {b} came back.",
]
LINES = [
    '"We leave at first light," said {a}.',
    '"Have you seen the map?" {b} asked.',
    '"I have never been this far from home," said {a} quietly.',
    '"Hurry, the tide is turning!" shouted {a}.',
    '"Thank you," {b} said, and smiled at {a}.',
    '"What is that light on the water?" asked {a}.',
]
WEATHER = [
    "A cold rain began to fall.",
    "Fog rolled in from the sea.",
    "The sun came out from behind the clouds.",
    "Snow drifted down in slow flakes.",
    "A storm gathered over the hills.",
]
TITLES = ["The Wrong Tide", "Learning the Ropes", "Salt", "Fog", "Teeth", "The Festival", "Lanterns",
          "Long Roads", "The Map", "A Letter", "The Crossing", "Bells", "The Library", "Embers", "Snow",
          "The Garden", "Night Watch", "Return", "The Storm", "Low Water", "The Lighthouse", "Home"]  # fmt: skip


def write_book(words: int, seed: int = 7) -> str:
    """A book of about `words` words: a title, then chapters of about 600 words each."""
    rng = random.Random(seed)
    parts = ["The Salt Road", ""]
    met: set[str] = set()
    chapter, total = 0, 0
    while total < words:
        chapter += 1
        title = TITLES[(chapter - 1) % len(TITLES)]
        parts += [f"Chapter {chapter}: {title}", ""]
        place, _, look = PLACES[(chapter * 5) % len(PLACES)]
        cast = rng.sample(CAST, 3)
        animal = rng.choice(ANIMALS)
        paragraphs = [f"{rng.choice(TIMES).capitalize()}, {_name(cast[0], met, rng)} came to {place}. {look}"]
        for _ in range(rng.randint(30, 38)):
            a, b = rng.sample(cast, 2)
            names = _Names({"a": a, "b": b}, met, rng)
            sentences = [_capital(names.fill(rng.choice(ACTIONS)))]
            roll = rng.random()
            if roll < 0.35:
                sentences.append(_capital(names.fill(rng.choice(LINES))))
            elif roll < 0.5:  # the animal is met by its kind the first time it appears
                sentences.append(names.fill(rng.choice(animal[2]).replace("{x}", _met(animal, met))))
            elif roll < 0.6:
                sentences.append(rng.choice(WEATHER))
            pronoun = a[3].capitalize()
            sentences.append(f"{pronoun} {rng.choice(['smiled', 'paused', 'listened', 'looked back', 'sighed'])}.")
            paragraphs.append(_tidy(" ".join(sentences)))
        for paragraph in paragraphs:
            parts += [paragraph, ""]
            total += len(paragraph.split())
        total += 3
    return "\n".join(parts).rstrip() + "\n"


class _Names:
    """The names a sentence's placeholders stand for, each decided when the sentence first uses it: someone
    is met by their full name in the first sentence that names them, not the first that could have."""

    def __init__(self, people: dict[str, tuple[str, str, str, str]], met: set[str], rng: random.Random) -> None:
        self.people, self.met, self.rng, self.chosen = people, met, rng, {}

    def fill(self, template: str) -> str:
        for slot, person in self.people.items():
            if "{" + slot + "}" in template:
                if slot not in self.chosen:
                    self.chosen[slot] = _name(person, self.met, self.rng)
                template = template.replace("{" + slot + "}", self.chosen[slot])
        return template


def _name(person: tuple[str, str, str, str], met: set[str], rng: random.Random) -> str:
    """The full name the first time the book meets someone, the short form after; now and then their role."""
    full, short, kind, _ = person
    if full not in met:
        met.add(full)
        return full
    return f"the {kind}" if rng.random() < 0.1 else short


def _met(animal: tuple[str, str, list[str]], met: set[str]) -> str:
    if animal[1] in met:
        return animal[0]
    met.add(animal[1])
    return animal[1]


def _tidy(text: str) -> str:
    """An apposition's comma before a full stop or a question mark goes."""
    for mark in ".?!":
        text = text.replace(f",{mark}", mark)
    return text


def _capital(sentence: str) -> str:
    """ "the doctor waved." opens a sentence as "The doctor waved." """
    quote = 1 if sentence.startswith('"') else 0
    return sentence[:quote] + sentence[quote].upper() + sentence[quote + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--words", type=int, default=13_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.path.write_text(write_book(args.words, args.seed), encoding="utf-8")
    print(f"wrote {args.path}: {len(args.path.read_text(encoding='utf-8').split()):,} words")


if __name__ == "__main__":
    main()
