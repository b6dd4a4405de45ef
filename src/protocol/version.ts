/** Wire protocol version. A client sends it in `hello`; the server refuses versions it does not speak. */
export const PROTOCOL_VERSION = 1;
