// Builds the one-line text of an ERROR in a fixed buffer (no allocation):
// ASCII literals and decimal numbers, cut at the buffer's end.

const TEXT_CAP: usize = 160;
export const TEXT: usize = memory.data(<i32>TEXT_CAP, 4);
export let textLen: usize = 0;

export function textReset(): void {
  textLen = 0;
}

export function textStr(s: string): void {
  for (let i = 0; i < s.length && textLen < TEXT_CAP; i++) {
    store<u8>(TEXT + textLen++, <u8>s.charCodeAt(i));
  }
}

export function textU32(n: u32): void {
  let div: u32 = 1000000000;
  let started = false;
  while (div > 0) {
    const d = (n / div) % 10;
    if (d != 0 || started || div == 1) {
      started = true;
      if (textLen < TEXT_CAP) store<u8>(TEXT + textLen++, <u8>(48 + d));
    }
    div /= 10;
  }
}
