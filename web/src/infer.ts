// Types that follow the server's configuration: the fields `user.additionalFields` and
// `session.additionalFields` of the config file (AUTH_CONFIG) add, written the way upstream's
// inferAdditionalFields takes them (upstream packages/better-auth/src/plugins/additional-fields/client.ts),
// turned into the fields the sidecar returns and accepts.

/** A field's declared type, as in the config file. */
export type FieldType = "string" | "number" | "boolean" | "date" | "string[]" | "number[]";

/** One entry of additionalFields: the attributes that change its TypeScript type. */
export interface FieldAttribute {
  type: FieldType;
  required?: boolean;
  /** false: server-only, never accepted from the client. */
  input?: boolean;
  /** false: never sent to the client. */
  returned?: boolean;
  defaultValue?: unknown;
  unique?: boolean;
}

export type Fields = Record<string, FieldAttribute>;

/** The additionalFields of `user` and `session`, as in the config file. */
export interface AdditionalFields {
  user?: Fields;
  session?: Fields;
}

type TypeOf<T> = T extends "string"
  ? string
  : T extends "number"
    ? number
    : T extends "boolean"
      ? boolean
      : T extends "date"
        ? Date
        : T extends "string[]"
          ? string[]
          : T extends "number[]"
            ? number[]
            : never;

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** What the sidecar returns: every field but `returned: false`; one not `required` may be null or absent. */
export type FieldsOutput<F> = Flatten<
  { -readonly [K in keyof F as F[K] extends { returned: false } ? never : F[K] extends { required: true } ? K : never]: F[K] extends { type: infer T } ? TypeOf<T> : never } & {
    -readonly [K in keyof F as F[K] extends { returned: false } ? never : F[K] extends { required: true } ? never : K]?: (F[K] extends { type: infer T } ? TypeOf<T> : never) | null;
  }
>;

/** What sign-up accepts: every field but `input: false`; `required` without a default must be sent. */
export type FieldsInput<F> = Flatten<
  {
    -readonly [K in keyof F as F[K] extends { input: false } ? never : F[K] extends { required: true } ? (F[K] extends { defaultValue: {} } ? never : K) : never]: F[K] extends {
      type: infer T;
    }
      ? TypeOf<T>
      : never;
  } & {
    -readonly [K in keyof F as F[K] extends { input: false } ? never : F[K] extends { required: true } ? (F[K] extends { defaultValue: {} } ? K : never) : K]?:
      | (F[K] extends { type: infer T } ? TypeOf<T> : never)
      | null;
  }
>;

/** What update-user accepts: every field but `input: false`, each optional. */
export type FieldsUpdate<F> = Partial<FieldsInput<F>>;

export type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
