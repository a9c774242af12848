/** Quote one word for a POSIX shell: everything inside single quotes is literal. */
export function shq(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shqAll(words: readonly string[]): string {
    return words.map(shq).join(" ");
}
