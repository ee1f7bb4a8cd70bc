# fish completion for sdm.
# Load it with:  sdm completion fish | source
# or install it: sdm completion fish > ~/.config/fish/completions/sdm.fish
# Resource names come from the node through `sdm __complete resources`,
# which prints nothing when the node cannot be reached.

function __sdm_resources
    sdm __complete resources 2>/dev/null
end

# True when the command line is `sdm GROUP` with no subcommand of GROUP yet.
function __sdm_group_without_subcommand --argument-names group
    set -l words (commandline -opc)
    test (count $words) -eq 2; and test "$words[2]" = "$group"
end

# True when the command line starts with `sdm GROUP SUBCOMMAND`.
function __sdm_in --argument-names group subcommand
    set -l words (commandline -opc)
    test (count $words) -ge 3; and test "$words[2]" = "$group"; and test "$words[3]" = "$subcommand"
end

complete -c sdm -f

complete -c sdm -n __fish_use_subcommand -a gateway -d 'create and run a node'
complete -c sdm -n __fish_use_subcommand -a login -d 'log in to a node'
complete -c sdm -n __fish_use_subcommand -a logout -d 'forget the API token and disconnect everything'
complete -c sdm -n __fish_use_subcommand -a status -d 'list resources with address, connection and health'
complete -c sdm -n __fish_use_subcommand -a connect -d 'listen on a loopback port for resources'
complete -c sdm -n __fish_use_subcommand -a disconnect -d 'stop listening for resources'
complete -c sdm -n __fish_use_subcommand -a listen -d 'run the agent in the foreground'
complete -c sdm -n __fish_use_subcommand -a resource -d 'manage resources'
complete -c sdm -n __fish_use_subcommand -a user -d 'manage users and API tokens'
complete -c sdm -n __fish_use_subcommand -a role -d 'manage roles, grants and members'
complete -c sdm -n __fish_use_subcommand -a logs -d 'read the audit log'
complete -c sdm -n __fish_use_subcommand -a completion -d 'print a shell completion script'
complete -c sdm -n __fish_use_subcommand -a demo -d 'run the whole path on loopback and query through it'
complete -c sdm -n '__fish_seen_subcommand_from demo' -l once -d 'stop and clean up after the query'
complete -c sdm -n __fish_use_subcommand -s V -l version -d 'print the version'

complete -c sdm -n '__sdm_group_without_subcommand gateway' -a 'init start'
complete -c sdm -n '__sdm_in gateway init; or __sdm_in gateway start' -l data-dir -r -F -d 'node data directory'
complete -c sdm -n '__sdm_in gateway init' -l listen -r -d 'HOST:PORT to listen on'
complete -c sdm -n '__sdm_in gateway init' -l json -d 'print JSON'

complete -c sdm -n '__fish_seen_subcommand_from login' -l gateway -r -d 'HOST:PORT of the node'
complete -c sdm -n '__fish_seen_subcommand_from login' -l fingerprint -r -d 'SHA-256 fingerprint of the node'
complete -c sdm -n '__fish_seen_subcommand_from login' -l ca-file -r -F -d 'CA certificate (PEM)'
complete -c sdm -n '__fish_seen_subcommand_from login' -l token-stdin -d 'read the API token from stdin'

complete -c sdm -n '__fish_seen_subcommand_from status' -l json -d 'print JSON'
complete -c sdm -n '__fish_seen_subcommand_from status' -l filter -r -d 'filter such as tags:env=prod'

complete -c sdm -n '__fish_seen_subcommand_from connect' -a '(__sdm_resources)'
complete -c sdm -n '__fish_seen_subcommand_from connect' -l all -d 'every resource you may reach'
complete -c sdm -n '__fish_seen_subcommand_from connect' -l filter -r -d 'filter such as tags:env=dev'
complete -c sdm -n '__fish_seen_subcommand_from connect' -l env -d 'print export PG… lines'
complete -c sdm -n '__fish_seen_subcommand_from connect' -l json -d 'print JSON'
complete -c sdm -n '__fish_seen_subcommand_from disconnect' -a '(__sdm_resources)'
complete -c sdm -n '__fish_seen_subcommand_from disconnect' -l all -d 'every resource'
complete -c sdm -n '__fish_seen_subcommand_from disconnect' -l forget-port -d 'forget the remembered ports'

complete -c sdm -n '__sdm_group_without_subcommand resource' -a 'add list show update delete healthcheck'
complete -c sdm -n '__sdm_in resource add' -a azure-postgres-mi
complete -c sdm -n '__sdm_in resource show; or __sdm_in resource update; or __sdm_in resource delete; or __sdm_in resource healthcheck' -a '(__sdm_resources)'
for flag in hostname port database username client-id port-override ip tags proxy-cluster secret-store
    complete -c sdm -n '__sdm_in resource add; or __sdm_in resource update' -l $flag -r
end
complete -c sdm -n '__sdm_in resource add; or __sdm_in resource update' -l tls-mode -r -a 'verify-full verify-ca require disable'
complete -c sdm -n '__sdm_in resource add; or __sdm_in resource update' -l ca-file -r -F
complete -c sdm -n '__sdm_in resource add; or __sdm_in resource update' -l restrict-database
complete -c sdm -n '__sdm_in resource add; or __sdm_in resource update' -l single-server-usernames
for flag in no-restrict-database no-single-server-usernames no-port-override no-tags no-proxy-cluster no-ca-file
    complete -c sdm -n '__sdm_in resource update' -l $flag
end
complete -c sdm -n '__sdm_in resource list' -l filter -r
complete -c sdm -n '__fish_seen_subcommand_from resource' -l json -d 'print JSON'

complete -c sdm -n '__sdm_group_without_subcommand user' -a 'add list delete rotate-token'
complete -c sdm -n '__sdm_in user add' -l admin -d 'let the user manage the node'
complete -c sdm -n '__sdm_in user add' -l role -r -d 'role to assign'
complete -c sdm -n '__fish_seen_subcommand_from user' -l json -d 'print JSON'

complete -c sdm -n '__sdm_group_without_subcommand role' -a 'add delete grant revoke assign unassign list'
complete -c sdm -n '__sdm_in role grant; or __sdm_in role revoke' -l resource -r -a '(__sdm_resources)'
complete -c sdm -n '__sdm_in role grant; or __sdm_in role revoke' -l tags -r -d 'k=v tags'
complete -c sdm -n '__sdm_in role add; or __sdm_in role list' -l json -d 'print JSON'

complete -c sdm -n '__sdm_group_without_subcommand logs' -a 'connections queries'
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l since -r -d '1h, 2d or an ISO time'
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l until -r -d '1h, 2d or an ISO time'
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l resource -r -a '(__sdm_resources)'
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l user -r
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l limit -r
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l json
complete -c sdm -n '__sdm_in logs connections; or __sdm_in logs queries' -l follow

complete -c sdm -n '__sdm_group_without_subcommand completion' -a 'bash zsh fish'
