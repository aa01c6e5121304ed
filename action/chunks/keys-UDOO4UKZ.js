import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d}from"./chunk-RSZZ6YKP.js";import"./chunk-AZOG6327.js";import"./chunk-5MFGUDRM.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{a as fingerprint,c as loadSigner,b as parsePublicKeyLine,d as signingKeyPath};
