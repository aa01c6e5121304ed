/** Repository operations: the repository, collaborators, commits and statuses, deployments, issues. */
import { denyWrite, ex, type Handler, message, notFound, role, userBody } from "./replies.js";
import type { FakeRepo, FakeStatus } from "./state.js";

function shaOf(repo: FakeRepo, ref: string): string | undefined {
  const name = ref.replace(/^(refs\/)?heads\//, "");
  if (repo.branches.has(name)) return repo.branches.get(name);
  return [...repo.commits].find((s) => ref.length >= 7 && s.startsWith(ref.toLowerCase()));
}

export const repoHandlers: Record<string, Handler> = {
  "repos/get": (_c, repo) => ({
    status: 200,
    body: ex("full-repository", {
      id: repo.id,
      name: repo.name,
      full_name: repo.fullName,
      private: true,
      default_branch: repo.defaultBranch,
      owner: userBody(repo.owner),
    }),
  }),
  "repos/get-collaborator-permission-level": (c, repo) => {
    const r = role(repo, c.params.username!);
    if (!r) return notFound();
    return {
      status: 200,
      body: {
        permission: r.permission,
        role_name: r.name,
        user: ex("nullable-collaborator", { login: c.params.username, type: "User", role_name: r.name }),
      },
    };
  },
  "repos/get-commit": (c, repo) => {
    const sha = shaOf(repo, c.params.ref!);
    if (!sha) return message(422, `No commit found for SHA: ${c.params.ref}`);
    if (c.accept.includes("application/vnd.github.sha")) {
      // No charset: a client must not rely on one to read the body as text.
      return { status: 200, text: { contentType: "application/vnd.github.sha", data: sha } };
    }
    return {
      status: 200,
      body: ex("commit", { sha, html_url: `https://github.com/${repo.fullName}/commit/${sha}` }),
    };
  },
  "repos/get-combined-status-for-ref": (c, repo) => {
    const sha = shaOf(repo, c.params.ref!);
    // GitHub answers 404 here (this operation has no 422) for a ref it does not have.
    if (!sha) return message(404, `No commit found for SHA: ${c.params.ref}`);
    const latest = new Map<string, FakeStatus>();
    for (const s of repo.statuses.get(sha) ?? []) {
      if (!latest.has(s.context.toLowerCase())) latest.set(s.context.toLowerCase(), s);
    }
    const list = [...latest.values()].slice(0, Number(c.query.get("per_page") ?? 30));
    const states = list.map((s) => s.state);
    const state = states.some((x) => x === "failure" || x === "error")
      ? "failure"
      : states.length > 0 && states.every((x) => x === "success")
        ? "success"
        : "pending";
    return {
      status: 200,
      body: ex("combined-commit-status", {
        state,
        sha,
        total_count: latest.size,
        statuses: list.map((s) =>
          ex("simple-commit-status", {
            id: s.id,
            state: s.state,
            context: s.context,
            description: s.description,
            target_url: s.target_url,
            created_at: s.created_at,
            updated_at: s.created_at,
          }),
        ),
        repository: ex("minimal-repository", { id: repo.id, name: repo.name, full_name: repo.fullName }),
        commit_url: `https://api.github.com/repos/${repo.fullName}/commits/${sha}`,
        url: `https://api.github.com/repos/${repo.fullName}/commits/${sha}/status`,
      }),
    };
  },
  "repos/list-commit-statuses-for-ref": (c, repo) => {
    const sha = shaOf(repo, c.params.ref!);
    const perPage = Number(c.query.get("per_page") ?? 30);
    const list = (sha ? (repo.statuses.get(sha) ?? []) : []).slice(0, perPage);
    return {
      status: 200,
      body: list.map((s) =>
        ex("status", {
          id: s.id,
          state: s.state,
          context: s.context,
          description: s.description,
          target_url: s.target_url,
          created_at: s.created_at,
          updated_at: s.created_at,
          creator: userBody(s.creator),
        }),
      ),
    };
  },
  "repos/create-commit-status": (c, repo) => {
    const denied = denyWrite(repo, c.user, "statuses");
    if (denied) return denied;
    const sha = c.params.sha!;
    if (!repo.commits.has(sha)) return message(422, `No commit found for SHA: ${sha}`);
    const b = c.body ?? {};
    if (typeof b.description === "string" && [...b.description].length > 140) {
      return message(422, "Validation Failed: description is too long (maximum is 140 characters)");
    }
    const s = repo.addStatus(sha, {
      state: String(b.state),
      context: typeof b.context === "string" ? b.context : "default",
      description: (b.description as string | null | undefined) ?? null,
      target_url: (b.target_url as string | null | undefined) ?? null,
      creator: c.user.login,
    });
    return {
      status: 201,
      body: ex("status", { ...s, updated_at: s.created_at, creator: userBody(c.user.login) }),
    };
  },
  "repos/list-deployments": (c, repo) => {
    const env = c.query.get("environment");
    const list = repo.deployments
      .filter((d) => !env || d.environment === env)
      .slice(0, Number(c.query.get("per_page") ?? 30));
    return {
      status: 200,
      body: list.map((d) =>
        ex("deployment", {
          id: d.id,
          environment: d.environment,
          sha: d.sha,
          ref: d.ref,
          payload: d.payload,
          created_at: d.created_at,
          updated_at: d.created_at,
          creator: userBody("deployer"),
        }),
      ),
    };
  },
  "repos/list-deployment-statuses": (c, repo) => {
    const d = repo.deployments.find((x) => String(x.id) === c.params.deployment_id);
    if (!d) return notFound();
    const list = d.statuses.slice(0, Number(c.query.get("per_page") ?? 30));
    return {
      status: 200,
      body: list.map((s) =>
        ex("deployment-status", {
          id: s.id,
          state: s.state,
          created_at: s.created_at,
          updated_at: s.created_at,
          creator: userBody("deployer"),
          ...(s.log_url ? { log_url: s.log_url, target_url: s.log_url } : {}),
        }),
      ),
    };
  },
};

repoHandlers["issues/create-comment"] = (c, repo) => {
  const comments = repo.issues.get(Number(c.params.issue_number));
  if (!comments) return notFound();
  const body = String(c.body?.body);
  comments.push(body);
  const id = c.world.nextId();
  return {
    status: 201,
    body: ex("issue-comment", {
      id,
      body,
      user: userBody(c.user.login),
      html_url: `https://github.com/${repo.fullName}/issues/${c.params.issue_number}#issuecomment-${id}`,
    }),
  };
};

/** GET /repos/{o}/{r}/rules/branches/{branch}: every rule that applies, from the repository's rulesets. */
repoHandlers["repos/get-branch-rules"] = (c, repo) => ({
  status: 200,
  body: (repo.rulesets.get(c.params.branch!) ?? []).map((rule) => ({
    ...(typeof rule === "string" ? { type: rule } : rule),
    ruleset_source_type: "Repository",
    ruleset_source: repo.fullName,
    ruleset_id: 1,
  })),
});

/** GET /repos/{o}/{r}/branches/{branch}/protection: admin only (403), 404 "Branch not protected". */
repoHandlers["repos/get-branch-protection"] = (c, repo) => {
  if (role(repo, c.user.login)?.permission !== "admin") {
    return message(403, "Resource not accessible by personal access token");
  }
  const p = repo.protection.get(c.params.branch!);
  if (!p) return message(404, "Branch not protected");
  const url = `https://api.github.com/repos/${repo.fullName}/branches/${c.params.branch}/protection`;
  return {
    status: 200,
    body: ex("branch-protection", {
      url,
      enabled: true,
      allow_force_pushes: { enabled: p.allowForcePushes },
      allow_deletions: { enabled: p.allowDeletions },
    }),
  };
};
