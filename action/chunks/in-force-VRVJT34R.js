import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b}from"./chunk-E6JIKWZH.js";import"./chunk-26T2WDEK.js";import"./chunk-3AWD5SLE.js";import"./chunk-AZOG6327.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{b as loadInForce,a as policyPathOf};
