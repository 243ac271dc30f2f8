// `npm run lint` (after biome): the house's size rules for src/, which biome has no rule for. A file over 400
// lines or a function over 60 (declarations, methods, constructors, accessors and arrow functions, counted
// from the line it starts on to the line it ends on) fails the check and is named with its length.
//
//   node scripts/house-rules.mjs [--top N]   (--top lists the N longest files and functions as well)
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;

const root = join(import.meta.dirname, "..");
const ts = createRequire(import.meta.url)("typescript");

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) yield path;
  }
}

const isFunction = (node) =>
  (ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)) &&
  node.body !== undefined;

/** A function's name as a reader finds it: its own, or the variable or property it is assigned to. */
function nameOf(node, file) {
  if (ts.isConstructorDeclaration(node)) return "constructor";
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name) {
    return parent.name.getText(file);
  }
  return "(anonymous)";
}

function measure(path) {
  const text = readFileSync(path, "utf8");
  const name = relative(root, path);
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const functions = [];
  const visit = (node) => {
    if (isFunction(node)) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.end).line;
      functions.push({ where: `${name}:${start + 1} ${nameOf(node, file)}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { file: { where: name, lines }, functions };
}

const files = [];
const functions = [];
for (const path of sources(join(root, "src"))) {
  const measured = measure(path);
  files.push(measured.file);
  functions.push(...measured.functions);
}
const longestFirst = (a, b) => b.lines - a.lines;
files.sort(longestFirst);
functions.sort(longestFirst);

const topAt = process.argv.indexOf("--top");
if (topAt > 0) {
  const top = Number(process.argv[topAt + 1] ?? 5);
  console.log(`The ${top} longest files in src/:`);
  for (const f of files.slice(0, top)) console.log(`  ${f.lines}  ${f.where}`);
  console.log(`The ${top} longest functions in src/:`);
  for (const f of functions.slice(0, top)) console.log(`  ${f.lines}  ${f.where}`);
}

const problems = [
  ...files
    .filter((f) => f.lines > MAX_FILE_LINES)
    .map((f) => `${f.where}: ${f.lines} lines (at most ${MAX_FILE_LINES})`),
  ...functions
    .filter((f) => f.lines > MAX_FUNCTION_LINES)
    .map((f) => `${f.where}: a function of ${f.lines} lines (at most ${MAX_FUNCTION_LINES})`),
];
if (problems.length > 0) {
  console.error(`House rules: ${problems.length} over the limits in src/:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `House rules: ${files.length} files in src/, none over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}.`,
);
