import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c}from"./chunk-PD5HXSMC.js";import"./chunk-WZARSLCK.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{a as fingerprint,c as loadSigner,b as parsePublicKeyLine};
