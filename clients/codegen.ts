import type { CodegenConfig } from "@graphql-codegen/cli";

// Every custom scalar of the schema is mapped (strictScalars refuses an unmapped one):
// DateTime and Date travel as ISO 8601 strings, Decimal as a string of digits, JSON as any
// JSON value, Upload a file of a multipart request (docs/api.md, Scalars).
const config: CodegenConfig = {
  schema: "../schema/schema.graphql",
  documents: ["operations/*.graphql"],
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        strictScalars: true,
        scalars: {
          DateTime: "string",
          Date: "string",
          Decimal: "string",
          JSON: "unknown",
          Upload: "File | Blob",
        },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
