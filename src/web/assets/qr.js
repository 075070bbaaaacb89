// A QR code of a link, drawn in the page (the link holds its key in the fragment, so it is never
// sent anywhere to be drawn): byte mode, error correction level M, versions 1 to 10 (up to 213
// bytes), following ISO/IEC 18004. The pages' test reads the drawn code back with zbarimg.
"use strict";

const QR = (() => {
  // Per version 1..10 at level M: [EC codewords per block, [blocks, data codewords each]...].
  const BLOCKS = [
    null,
    [10, [1, 16]],
    [16, [1, 28]],
    [26, [1, 44]],
    [18, [2, 32]],
    [24, [2, 43]],
    [16, [4, 27]],
    [18, [4, 31]],
    [22, [2, 38], [2, 39]],
    [22, [3, 36], [2, 37]],
    [26, [4, 43], [1, 44]],
  ];
  const ALIGNMENT = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];
  const FORMAT_BITS_M = 0;

  const dataCodewords = (version) => BLOCKS[version].slice(1).reduce((n, [count, size]) => n + count * size, 0);

  function multiply(x, y) {
    let z = 0;
    for (let i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11d);
      z ^= ((y >>> i) & 1) * x;
    }
    return z;
  }

  function divisor(degree) {
    const result = new Array(degree).fill(0);
    result[degree - 1] = 1;
    let root = 1;
    for (let i = 0; i < degree; i++) {
      for (let j = 0; j < degree; j++) {
        result[j] = multiply(result[j], root);
        if (j + 1 < degree) result[j] ^= result[j + 1];
      }
      root = multiply(root, 0x02);
    }
    return result;
  }

  function remainder(data, div) {
    const result = new Array(div.length).fill(0);
    for (const byte of data) {
      const factor = byte ^ result.shift();
      result.push(0);
      div.forEach((coefficient, i) => {
        result[i] ^= multiply(coefficient, factor);
      });
    }
    return result;
  }

  /** The codewords of `bytes` at `version`: data with padding, then error correction, interleaved. */
  function codewords(bytes, version) {
    const capacity = dataCodewords(version);
    const bits = [];
    const put = (value, length) => {
      for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
    };
    put(0b0100, 4);
    put(bytes.length, version < 10 ? 8 : 16);
    bytes.forEach((b) => put(b, 8));
    put(0, Math.min(4, capacity * 8 - bits.length));
    put(0, (8 - (bits.length % 8)) % 8);
    const data = [];
    for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((n, b) => (n << 1) | b, 0));
    for (let pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);

    const [ecLength, ...groups] = BLOCKS[version];
    const div = divisor(ecLength);
    const blocks = [];
    let at = 0;
    for (const [count, size] of groups) {
      for (let i = 0; i < count; i++) {
        const block = data.slice(at, at + size);
        at += size;
        blocks.push({ data: block, ec: remainder(block, div) });
      }
    }
    const out = [];
    const longest = Math.max(...blocks.map((b) => b.data.length));
    for (let i = 0; i < longest; i++) blocks.forEach((b) => i < b.data.length && out.push(b.data[i]));
    for (let i = 0; i < ecLength; i++) blocks.forEach((b) => out.push(b.ec[i]));
    return out;
  }

  const MASKS = [
    (x, y) => (x + y) % 2 === 0,
    (x, y) => y % 2 === 0,
    (x) => x % 3 === 0,
    (x, y) => (x + y) % 3 === 0,
    (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
    (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
    (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
    (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
  ];

  /** The module grid of `version` with `words` and `mask`: rows of booleans (dark). */
  function grid(version, words, mask) {
    const size = version * 4 + 17;
    const dark = Array.from({ length: size }, () => new Array(size).fill(false));
    const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
    const set = (x, y, value) => {
      dark[y][x] = value;
      fixed[y][x] = true;
    };
    for (let i = 0; i < size; i++) {
      set(6, i, i % 2 === 0);
      set(i, 6, i % 2 === 0);
    }
    for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
      for (let dy = -4; dy <= 4; dy++) {
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx;
          const y = cy + dy;
          if (x < 0 || y < 0 || x >= size || y >= size) continue;
          const distance = Math.max(Math.abs(dx), Math.abs(dy));
          set(x, y, distance !== 2 && distance !== 4);
        }
      }
    }
    const centres = ALIGNMENT[version];
    centres.forEach((cy, i) =>
      centres.forEach((cx, j) => {
        const last = centres.length - 1;
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
        }
      }),
    );
    // Format information (level M and the mask), twice.
    const format = (FORMAT_BITS_M << 3) | mask;
    let rem = format;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const formatBits = ((format << 10) | rem) ^ 0x5412;
    const bit = (value, i) => ((value >>> i) & 1) !== 0;
    for (let i = 0; i <= 5; i++) set(8, i, bit(formatBits, i));
    set(8, 7, bit(formatBits, 6));
    set(8, 8, bit(formatBits, 7));
    set(7, 8, bit(formatBits, 8));
    for (let i = 9; i < 15; i++) set(14 - i, 8, bit(formatBits, i));
    for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(formatBits, i));
    for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(formatBits, i));
    set(8, size - 8, true);
    if (version >= 7) {
      let vrem = version;
      for (let i = 0; i < 12; i++) vrem = (vrem << 1) ^ ((vrem >>> 11) * 0x1f25);
      const versionBits = (version << 12) | vrem;
      for (let i = 0; i < 18; i++) {
        const a = size - 11 + (i % 3);
        const b = Math.floor(i / 3);
        set(a, b, bit(versionBits, i));
        set(b, a, bit(versionBits, i));
      }
    }
    // The codewords, two columns at a time in a zigzag from the bottom right, masked.
    let i = 0;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < size; vert++) {
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? size - 1 - vert : vert;
          if (fixed[y][x]) continue;
          let value = false;
          if (i < words.length * 8) {
            value = bit(words[i >>> 3], 7 - (i & 7));
            i++;
          }
          dark[y][x] = value !== MASKS[mask](x, y);
        }
      }
    }
    return dark;
  }

  /** The standard's penalty of a grid: the mask with the lowest is used. */
  function penalty(dark) {
    const size = dark.length;
    let score = 0;
    const lines = [];
    for (let y = 0; y < size; y++) lines.push(dark[y]);
    for (let x = 0; x < size; x++) lines.push(dark.map((row) => row[x]));
    for (const line of lines) {
      let run = 1;
      for (let i = 1; i <= size; i++) {
        if (i < size && line[i] === line[i - 1]) {
          run++;
        } else {
          if (run >= 5) score += run - 2;
          run = 1;
        }
      }
      const text = line.map((d) => (d ? "1" : "0")).join("");
      for (const pattern of ["10111010000", "00001011101"]) {
        for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + 1)) score += 40;
      }
    }
    let total = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (dark[y][x]) total++;
        if (x + 1 < size && y + 1 < size) {
          const c = dark[y][x];
          if (c === dark[y][x + 1] && c === dark[y + 1][x] && c === dark[y + 1][x + 1]) score += 3;
        }
      }
    }
    score += Math.floor(Math.abs((total * 20) / (size * size) - 10)) * 10;
    return score;
  }

  /** An SVG element drawing `text` as a QR code, or null when it is too long. */
  function svg(text, title) {
    const bytes = Array.from(new TextEncoder().encode(text));
    let version = 1;
    while (version <= 10 && 4 + (version < 10 ? 8 : 16) + bytes.length * 8 > dataCodewords(version) * 8) version++;
    if (version > 10) return null;
    const words = codewords(bytes, version);
    let best = null;
    for (let mask = 0; mask < 8; mask++) {
      const candidate = grid(version, words, mask);
      const score = penalty(candidate);
      if (!best || score < best.score) best = { dark: candidate, score };
    }
    const size = best.dark.length;
    const quiet = 4;
    const ns = "http://www.w3.org/2000/svg";
    const element = document.createElementNS(ns, "svg");
    const side = size + 2 * quiet;
    element.setAttribute("viewBox", `0 0 ${side} ${side}`);
    // Whole pixels per module, so every module is drawn the same size.
    element.setAttribute("width", String(side * 5));
    element.setAttribute("height", String(side * 5));
    element.setAttribute("role", "img");
    element.setAttribute("shape-rendering", "crispEdges");
    const label = document.createElementNS(ns, "title");
    label.textContent = title;
    element.appendChild(label);
    const background = document.createElementNS(ns, "rect");
    background.setAttribute("width", "100%");
    background.setAttribute("height", "100%");
    background.setAttribute("fill", "#fff");
    element.appendChild(background);
    let d = "";
    best.dark.forEach((row, y) =>
      row.forEach((on, x) => {
        if (on) d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
      }),
    );
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    element.appendChild(path);
    return element;
  }

  return { svg };
})();
