import { Command } from "@commander-js/extra-typings";

export const authStatusCommand = () =>
  new Command("status").description(
    "who you are, where that comes from (never the token), what the policy lets you do",
  );
