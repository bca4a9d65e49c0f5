import type { ConfigValidator, JsonSchema } from '../src/index.js';
export function prepareConfigSchema(schema: JsonSchema): JsonSchema;
export function compileValidator(schema: JsonSchema): ConfigValidator;
export function validatorSource(schema: JsonSchema): string;
export function typesSource(schema: JsonSchema, typeName?: string): Promise<string>;
