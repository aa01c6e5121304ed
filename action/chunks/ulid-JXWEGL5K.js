import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c}from"./chunk-RS7AKDZY.js";import"./chunk-X4KDRK3H.js";import"./chunk-TBNVEXJN.js";export{b as isUlid,a as ulid,c as ulidTime};
