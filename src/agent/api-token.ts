// The characters an API token may contain. Tokens the node issues are
// `sdm_` followed by base64url text. The check allows any visible ASCII
// character, so a change of token format on the node does not break older
// clients. The token is sent in an HTTP Authorization header, where Node
// rejects control characters, so a bad token is caught here instead, with
// an error that never shows it.

import { SdmError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

/** Visible ASCII, from "!" (0x21) to "~" (0x7E): no space, no control character, nothing beyond ASCII. */
const TOKEN_CHARACTER = /^[\x21-\x7e]$/;

/**
 * Returns why `token` cannot be an API token, naming the first bad
 * character by kind and position but never the token, or undefined when it
 * can be one.
 */
export function describeBadTokenCharacter(token: string): string | undefined {
  const characters = [...token];
  const index = characters.findIndex((character) => !TOKEN_CHARACTER.test(character));
  if (index < 0) {
    return undefined;
  }
  return `${characterKind(characters[index])} at character ${index + 1} of ${characters.length}`;
}

/** Throws `invalid_token` with `exitCode` unless `token` has only visible ASCII characters; `source` names where it came from. */
export function checkTokenCharacters(token: string, source: string, exitCode: ExitCodeValue, hint: string): void {
  const problem = describeBadTokenCharacter(token);
  if (problem !== undefined) {
    throw new SdmError('invalid_token', `invalid API token from ${source}: it contains ${problem}; expected one line of visible ASCII characters, as sdm user add printed it`, {
      exitCode,
      hint,
    });
  }
}

/** Checks SDM_TOKEN; a bad one is an AUTH error, as a rejected token is. */
export function checkEnvironmentToken(token: string): void {
  checkTokenCharacters(token, 'SDM_TOKEN', ExitCode.AUTH, 'set SDM_TOKEN to the token alone, without spaces or line breaks, or unset it to use the stored token');
}

function characterKind(character: string): string {
  if (character === '\n' || character === '\r') {
    return 'a line break';
  }
  if (character === '\t') {
    return 'a tab';
  }
  if (/\s/u.test(character)) {
    return 'whitespace';
  }
  const codePoint = character.codePointAt(0) ?? 0;
  if (codePoint < 0x20 || codePoint === 0x7f || (codePoint >= 0x80 && codePoint < 0xa0)) {
    return `a control character (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')})`;
  }
  return 'a character outside ASCII';
}
