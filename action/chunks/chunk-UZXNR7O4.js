import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
var o=/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]+$/,t=/^(?![/\\])(?!.*(^|\/)\.\.(\/|$))(?!.*\\)[^\0]+$/;export{o as a,t as b};
