import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-WZARSLCK.js";import"./chunk-HX2LSJDK.js";import"./chunk-TBNVEXJN.js";export{c as SshReader,e as parseSshsig,d as signSshsig,b as sshString,a as sshU32,f as verifySshsig,g as verifySshsigAsync};
