// ESLint flat config for the small browser scripts in static/js (plain scripts, no build step).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017, // async/await and arrow functions are used; nothing newer
      sourceType: "script", // IIFEs loaded by <script>, not modules
      globals: { ...globals.browser, L: "readonly" }, // L: Leaflet, from static/vendor
    },
    // callbacks name the arguments they are given (forEach(function (photo, i)), catch (ignore)) for reading
    rules: { "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }] },
  },
  {
    files: ["static/js/sw.js"],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
];
