// Generates the TypeScript client's types from the committed OpenAPI document with
// openapi-typescript: `paths` and `components`, which openapi-fetch's client takes. A binary
// field (a file part, a file's bytes) is a Blob. Any warning the generator prints fails the run.
// Usage: node generate.mjs OPENAPI_JSON OUTPUT_TS
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import ts from "typescript";
import openapiTS, { astToString } from "openapi-typescript";

const [input, output] = process.argv.slice(2);
const warnings = [];
for (const level of ["warn", "error"]) {
  const original = console[level];
  console[level] = (...args) => {
    warnings.push(args.join(" "));
    original(...args);
  };
}

const blob = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(pathToFileURL(resolve(input)), {
  transform(schema) {
    if (schema.format === "binary") {
      return blob;
    }
    return undefined;
  },
});
writeFileSync(output, astToString(ast));
if (warnings.length > 0) {
  console.error(`openapi-typescript printed ${warnings.length} warning(s)`);
  process.exit(1);
}
console.log(`generated ${output}`);
