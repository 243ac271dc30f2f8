// Writes disguises.tsv and ordinary.tsv beside this file: the blocklist corpus that
// test/features/limits/blocklist-corpus.unit.test.ts reads. Deterministic; run `node generate.mjs` here after
// changing it and commit both files. README.md beside it says what the corpus holds and why.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Digits a writer puts for letters. */
const LEET = {
  a: ["4"],
  b: ["8"],
  e: ["3"],
  g: ["6", "9"],
  i: ["1"],
  l: ["1"],
  o: ["0"],
  s: ["5"],
  t: ["7"],
};
/** Look-alike letters from other scripts (Cyrillic, Greek) and full-width forms. */
const LOOKALIKE = {
  a: "\u0430",
  e: "\u0435",
  o: "\u043E",
  p: "\u0440",
  k: "\u03BA",
  i: "\u0456",
  d: "\u0501",
};
const SEPARATORS = [" ", ".", ",", "-", "_", "/", "~", "'", "*", " . ", ". ", " - ", "|", "+", "  "];

/** Every form of one word: spelt out, split, stretched, leetspeak, look-alikes, junk digits, mixed spacing. */
function forms(word) {
  const letters = [...word];
  const out = new Set();
  for (const sep of SEPARATORS) out.add(letters.join(sep));
  // Mixed spacing and mixed marks of one kind.
  out.add(letters.map((c, i) => (i === 0 ? c : `${i % 2 ? " " : "  "}${c}`)).join(""));
  out.add(letters.map((c, i) => (i === 0 ? c : `${".-_"[i % 3]}${c}`)).join(""));
  out.add(`${letters.join(". ")}.`);
  // A letter split off the front, or off the back when it is not a word of its own ("kil l", not "gor e").
  out.add(`${letters[0]} ${letters.slice(1).join("")}`);
  if (!"aeiouy".includes(letters.at(-1))) out.add(`${letters.slice(0, -1).join("")} ${letters.at(-1)}`);
  // Spelt out in part: the rest written as one piece.
  out.add(`${letters.slice(0, 2).join(" ")} ${letters.slice(2).join("")}`);
  out.add(`${letters.slice(0, -2).join("")} ${letters.slice(-2).join(" ")}`);
  // One inner mark anywhere.
  for (let i = 1; i < letters.length; i++) {
    for (const mark of ["-", ".", "_", "\u2014"]) out.add(`${word.slice(0, i)}${mark}${word.slice(i)}`);
  }
  // Stretched letters and case.
  letters.forEach((c, i) => {
    out.add(`${word.slice(0, i)}${c.repeat(3)}${word.slice(i + 1)}`);
  });
  out.add(word.toUpperCase());
  out.add(letters.map((c, i) => (i % 2 ? c.toUpperCase() : c)).join(""));
  // Leetspeak: every letter that has a digit, one at a time and all together.
  const leetable = letters.map((c, i) => [c, i]).filter(([c]) => LEET[c]);
  for (const [c, i] of leetable)
    for (const d of LEET[c]) out.add(`${word.slice(0, i)}${d}${word.slice(i + 1)}`);
  const allLeet = letters.map((c) => LEET[c]?.[0] ?? c).join("");
  out.add(allLeet);
  out.add([...allLeet].join("."));
  out.add([...allLeet].join(" "));
  // A digit dropped between two letters.
  out.add(`${word.slice(0, 1)}1${word.slice(1)}`);
  out.add(`${word.slice(0, 2)}7${word.slice(2)}`);
  // Look-alike letters, full-width letters, zero-width characters, accents.
  out.add(letters.map((c) => LOOKALIKE[c] ?? c).join(""));
  out.add(letters.map((c) => String.fromCodePoint(c.codePointAt(0) + 0xfee0)).join(""));
  out.add(letters.join("\u200B"));
  out.add(letters.join("\u00AD"));
  out.add(letters.map((c) => `${c}\u0301`).join(""));
  return [...out].filter((form) => !excluded(form));
}

/**
 * Forms the blocklist deliberately reads as something else (see README.md): a number with a unit ("8100d" is
 * read like "1080p"), a letter then a number ("k111" like "f16").
 */
function excluded(form) {
  const plain = form.replace(/[^a-z0-9]/g, "");
  return /^[0-9]+[a-z]+$/.test(plain) || /^[a-z]+[0-9]+$/.test(plain);
}

/** Sentences a disguise is put in, in the corpus's six languages. */
const CARRIERS = [
  "{}",
  "a knight covered in {}",
  "I saw a {} scene",
  "a {} scene at night",
  "ein Ritter voller {} im Regen",
  "une scène de {} sous la pluie",
  "una escena de {} en el bosque",
  "uma cena com {} na cidade",
  "{}のシーン",
  "騎士、{}、夜",
];

const ENTRIES = ["gore", "nude", "blood", "kill"];
const disguises = [];
let n = 0;
for (const entry of ENTRIES) {
  for (const form of forms(entry)) {
    disguises.push([entry, CARRIERS[n++ % CARRIERS.length].replace("{}", form)]);
  }
}
// The two-word entry: each word disguised, the two apart by any separator.
const bloods = forms("blood");
const baths = forms("bath");
for (let i = 0; i < Math.max(bloods.length, baths.length); i += 2) {
  const form = `${bloods[i % bloods.length]}${[" ", "  ", "-", ". ", "_"][i % 5]}${baths[i % baths.length]}`;
  disguises.push(["blood bath", CARRIERS[n++ % CARRIERS.length].replace("{}", form)]);
}
// The examples the blocklist once missed, word for word.
for (const prompt of [
  "a g o r e scene",
  "a g,o,r,e scene",
  "I saw a g.o.r.e scene",
  "g ore",
  "g o  r e",
  "g1ore",
  "60r3",
]) {
  disguises.push(["gore", prompt]);
}

/**
 * Ordinary character descriptions: for each language, subjects, looks and settings put together, many with words
 * that hold an entry inside them (shell, bloodhound, skilled, Nudeln, Kilimanjaro), lone letters and
 * punctuation; then descriptions written one by one.
 */
const PARTS = {
  en: [
    [
      "a knight",
      "a bloodhound",
      "a skilled archer",
      "a sea witch",
      "an old sailor",
      "a killer whale",
      "a gorgeous elf",
      "a goalkeeper",
      "a hermit crab",
      "a robot",
      "a tailor",
      "a nun",
      "a bass player",
      "an assassin",
      "a class clown",
      "I, a wizard,",
    ],
    [
      "with a spiral shell",
      "in a T-shirt",
      "with vitamin C drinks",
      "with Gorey-style ink lines",
      "holding a seashell",
      "with a hellebore crown",
      "wearing a beige scarf",
      "with a skillet",
      "with an orange glow",
      "with kilted trousers",
      "with a shellac finish",
      "with a plan B",
      "in an X-ray style",
      "with a nudibranch pet",
      "with a gored bull in the distance",
      "with Michelle's hat",
    ],
    [
      "on a beach",
      "in Scunthorpe",
      "at Kilimanjaro",
      "in a cathedral",
      "under neon lights",
      "in Massachusetts",
      "by a lighthouse",
      "in a hello-kitty shop",
    ],
  ],
  de: [
    [
      "ein Ritter",
      "eine Hexe",
      "ein alter Seemann",
      "ein Bluthund",
      "eine Köchin",
      "ein Roboter",
      "ein Förster",
      "ein Kind",
      "eine Tänzerin",
      "ein Drache",
      "ein Schmied",
      "ein Mönch",
    ],
    [
      "mit einer Muschelschale",
      "mit Nudeln im Topf",
      "mit Nudelholz",
      "mit einem Helm",
      "im Helles-Biergarten",
      "mit z. B. einem Hut",
      "mit roten Haaren",
      "mit einer Killerwal-Figur",
      "mit goldener Rüstung",
      "mit grünen Augen",
      "mit Schal u. a. Dingen",
      "mit einem Kilt",
    ],
    [
      "im Wald",
      "am Meer",
      "in Berlin",
      "auf einem Berg",
      "im Regen",
      "bei Nacht",
      "in einer Burg",
      "im Schnee",
    ],
  ],
  fr: [
    [
      "un chevalier",
      "une sorcière",
      "un vieux marin",
      "un chien de chasse",
      "une cuisinière",
      "un robot",
      "un forestier",
      "un enfant",
      "une danseuse",
      "un dragon",
      "un forgeron",
      "un moine",
    ],
    [
      "avec une coquille",
      "qui s'exprime avec les mains",
      "à l'air sérieux",
      "avec l'épée d'un roi",
      "y compris un chapeau",
      "aux cheveux roux",
      "avec une écharpe beige",
      "en armure dorée",
      "aux yeux verts",
      "avec un kilt",
      "d'humeur joyeuse",
      "qui s'excuse",
    ],
    [
      "dans la forêt",
      "au bord de la mer",
      "à Paris",
      "sur une montagne",
      "sous la pluie",
      "la nuit",
      "dans un château",
      "dans la neige",
    ],
  ],
  es: [
    [
      "un caballero",
      "una bruja",
      "un viejo marinero",
      "un sabueso",
      "una cocinera",
      "un robot",
      "un guardabosques",
      "un niño",
      "una bailarina",
      "un dragón",
      "un herrero",
      "un monje",
    ],
    [
      "con una concha",
      "y un sombrero",
      "o una capa",
      "con el pelo rojo",
      "a caballo",
      "con armadura dorada",
      "con ojos verdes",
      "con un kilo de oro",
      "e hijos",
      "con gorras de lana",
      "u otro abrigo",
      "con una gorra",
    ],
    [
      "en el bosque",
      "junto al mar",
      "en Madrid",
      "en una montaña",
      "bajo la lluvia",
      "de noche",
      "en un castillo",
      "en la nieve",
    ],
  ],
  pt: [
    [
      "um cavaleiro",
      "uma bruxa",
      "um velho marinheiro",
      "um cão de caça",
      "uma cozinheira",
      "um robô",
      "um guarda florestal",
      "uma criança",
      "uma bailarina",
      "um dragão",
      "um ferreiro",
      "um monge",
    ],
    [
      "com uma concha",
      "e o seu chapéu",
      "e a sua capa",
      "com cabelo ruivo",
      "à moda antiga",
      "com armadura dourada",
      "com olhos verdes",
      "e um gorro",
      "com um quilo de pão",
      "o dia todo",
      "e uma espada",
      "com sandálias",
    ],
    [
      "na floresta",
      "à beira-mar",
      "em Lisboa",
      "numa montanha",
      "debaixo de chuva",
      "à noite",
      "num castelo",
      "na neve",
    ],
  ],
  ja: [
    [
      "騎士",
      "魔女",
      "年老いた船乗り",
      "猟犬",
      "料理人",
      "ロボット",
      "森の番人",
      "子供",
      "踊り子",
      "ドラゴン",
      "鍛冶屋",
      "僧侶",
    ],
    [
      "、貝殻を持って",
      "、赤い髪で",
      "、金の鎧で",
      "、緑の目で",
      "、Tシャツ姿で",
      "、シェルのペンダントを付けて",
      "、スキルの高い",
      "、笑顔で",
      "、マントを着て",
      "、剣を持って",
      "、帽子をかぶって",
      "、本を読みながら",
    ],
    ["森の中", "海辺", "東京", "山の上", "雨の中", "夜", "城の中", "雪の中"],
  ],
};

const ordinary = [];
for (const [lang, [subjects, looks, places]] of Object.entries(PARTS)) {
  for (let i = 0; i < 84; i++) {
    const [s, l, p] = [
      subjects[i % subjects.length],
      looks[(i * 5) % looks.length],
      places[(i * 3) % places.length],
    ];
    ordinary.push([lang, lang === "ja" ? `${p}の${s}${l}` : `${s} ${l} ${p}`]);
  }
}
for (const [lang, prompt] of [
  ["en", "a S.S. officer in a grey coat"],
  ["en", "a U.S. marshal with a badge"],
  ["en", "she'll be a hero, he'll be a villain"],
  ["en", "we're two knights and I'm the tall one"],
  ["en", "a 455 hp muscle car with a driver"],
  ["en", "a 53x zoom lens camera operator"],
  ["en", "a pilot beside a Boeing 717"],
  ["en", "a shell-shocked soldier"],
  ["en", "a hermit in a s h e l l"],
  ["en", "a diver with a s.h.e.l.l necklace"],
  ["en", "an A-list actor in a v-neck"],
  ["en", "a J. R. R. Tolkien style wizard"],
  ["en", "a 4k portrait of a knight"],
  ["en", "a 1080p render of a robot"],
  ["en", "a girl, a boy and a dog"],
  ["en", "a mage with an a-line dress"],
  ["en", "a bloodhound named Rex"],
  ["en", "an assassin with a glass of water"],
  ["en", "a skilled killdeer watcher"],
  ["en", "a scunthorpe football fan"],
  ["en", "a hello kitty fan in a shell suit"],
  ["en", "a woman with a bass guitar in class"],
  ["en", "a kilt-wearing piper"],
  ["en", "a goalkeeper, a gorilla and a golden retriever"],
  ["en", "a 3 d model of a chess knight"],
  ["en", "a man with a T shirt and a G clef tattoo"],
  ["en", "a nudibranch diver"],
  ["en", "a girl in a Gore-Tex jacket"],
  ["de", "ein Mann mit Nudelsuppe"],
  ["de", "eine Frau, die Nudeln kocht"],
  ["de", "ein Ritter mit z. B. Schild u. Schwert"],
  ["de", "ein Bluthund und ein Killerwal"],
  ["de", "ein Kind mit Muschelschalen am Strand"],
  ["fr", "l'homme à la coquille d'escargot"],
  ["fr", "une femme qui s'exprime en chantant"],
  ["fr", "un garçon qui s'excuse, à Paris"],
  ["fr", "un chevalier, y compris son cheval"],
  ["fr", "un marin d'un autre âge"],
  ["es", "un perro y un gato o un pájaro"],
  ["es", "una niña a caballo y un niño a pie"],
  ["es", "un hombre con gorro e impermeable"],
  ["pt", "um gato e o seu dono"],
  ["pt", "uma menina e a avó à janela"],
  ["pt", "o rei e a rainha no castelo"],
  ["ja", "貝殻を持った人魚"],
  ["ja", "シェルター の中の ロボット"],
  ["ja", "スキルの高い弓使い"],
]) {
  ordinary.push([lang, prompt]);
}

const tsv = (rows) => `${rows.map((r) => r.join("\t")).join("\n")}\n`;
writeFileSync(join(here, "disguises.tsv"), tsv(disguises));
writeFileSync(join(here, "ordinary.tsv"), tsv(ordinary));
console.log(`disguises.tsv: ${disguises.length} prompts, ordinary.tsv: ${ordinary.length} prompts`);
