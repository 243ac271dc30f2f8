/** Compiles src/ into dist/ and copies the files the code reads beside itself; throws when tsc fails. */
export function build(): void;
