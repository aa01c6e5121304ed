import { Command } from "@commander-js/extra-typings";

export const doctorCommand = () =>
  new Command("doctor").description(
    "check git, the policy, remote, allowed signers, signing key and audit branch; advise on branch protection",
  );
