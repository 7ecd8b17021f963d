// GGUF key/value metadata as the parser returns it. Integers wider than 32 bits stay bigint,
// so nothing is silently rounded; arrays keep their element type's JS form.
export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | readonly GgufValue[];
export type GgufMetadata = ReadonlyMap<string, GgufValue>;
