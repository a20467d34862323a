// ESLint (flat config) for the sources: the recommended JavaScript and typescript-eslint rules, fitted to the code as
// it is (ANSI-stripping regexes and aligned-table regexes in tests are intended). Formatting is prettier's job
// (.prettierrc.json); `npm run lint` runs both checks (npm test runs it first), `npm run format` rewrites.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "native/build/", "results/", "report/", "release/", "feedback/", "nbextensions/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-control-regex": "off",
      "no-regex-spaces": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
