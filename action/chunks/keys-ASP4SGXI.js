import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c}from"./chunk-3AWD5SLE.js";import"./chunk-AZOG6327.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{a as fingerprint,c as loadSigner,b as parsePublicKeyLine};
