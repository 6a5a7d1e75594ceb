/** Why a bundle could not be decoded: a value, never a throw past the codec. */
export interface CodecError {
  readonly error: 'truncated' | 'too-large' | 'bad-cbor' | 'schema' | 'bad-compression' | 'unknown-dictionary' | 'length-mismatch' | 'hash-mismatch' | 'no-context';
  readonly detail: string;
}

export function isCodecError(v: unknown): v is CodecError {
  return typeof v === 'object' && v !== null && 'error' in v && 'detail' in v && !('id' in v);
}
