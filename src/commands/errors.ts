// Error replies shared by several command families (Valkey's exact wording).
export const E_WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const E_NOT_INT = 'ERR value is not an integer or out of range';
export const E_NOT_FLOAT = 'ERR value is not a valid float';
export const E_SYNTAX = 'ERR syntax error';
export const E_OVERFLOW = 'ERR increment or decrement would overflow';
export const E_NO_SUCH_KEY = 'ERR no such key';
export const E_DB_INDEX = 'ERR DB index is out of range';
export const E_INVALID_EXPIRE = (cmd: string) => `ERR invalid expire time in '${cmd}' command`;
export const E_NOT_POSITIVE = 'ERR value is out of range, must be positive';
export const E_STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
