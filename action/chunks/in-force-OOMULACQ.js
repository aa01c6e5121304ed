import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b}from"./chunk-6CLJJUHA.js";import"./chunk-AAEQUWM7.js";import"./chunk-RSZZ6YKP.js";import"./chunk-AZOG6327.js";import"./chunk-5MFGUDRM.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{b as loadInForce,a as policyPathOf};
