# bash completion for sdm.
# Load it with:  source <(sdm completion bash)
# or install it: sdm completion bash > /etc/bash_completion.d/sdm
# Resource names come from the node through `sdm __complete resources`,
# which prints nothing when the node cannot be reached.

_sdm_resources() {
    sdm __complete resources 2>/dev/null
}

_sdm_resource_flags="--hostname --port --database --username --client-id --restrict-database --single-server-usernames --port-override --ip --tags --proxy-cluster --secret-store --tls-mode --ca-file --json"
_sdm_resource_negations="--no-restrict-database --no-single-server-usernames --no-port-override --no-tags --no-proxy-cluster --no-ca-file"

_sdm() {
    local cur prev command subcommand candidates
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    command="${COMP_WORDS[1]}"
    subcommand="${COMP_WORDS[2]}"

    if [[ ${COMP_CWORD} -eq 1 ]]; then
        COMPREPLY=($(compgen -W "gateway login logout status connect disconnect listen resource user role logs completion demo help --version --help" -- "${cur}"))
        return
    fi

    case "${prev}" in
        --data-dir|--ca-file)
            COMPREPLY=($(compgen -f -- "${cur}"))
            return
            ;;
        --tls-mode)
            COMPREPLY=($(compgen -W "verify-full verify-ca require disable" -- "${cur}"))
            return
            ;;
        --resource)
            COMPREPLY=($(compgen -W "$(_sdm_resources)" -- "${cur}"))
            return
            ;;
    esac

    # Asking the node for names only when a name can come next keeps flag
    # completion instant.
    local names=""
    if [[ "${cur}" != -* ]]; then
        case "${command}:${subcommand}" in
            connect:*|disconnect:*|resource:show|resource:update|resource:delete|resource:healthcheck)
                names="$(_sdm_resources)"
                ;;
        esac
    fi

    case "${command}" in
        gateway)
            if [[ ${COMP_CWORD} -eq 2 ]]; then
                candidates="init start"
            elif [[ "${subcommand}" == init ]]; then
                candidates="--data-dir --listen --json"
            else
                candidates="--data-dir"
            fi
            ;;
        login) candidates="--gateway --fingerprint --ca-file --token-stdin" ;;
        status) candidates="--json --filter" ;;
        connect) candidates="--all --filter --env --json ${names}" ;;
        disconnect) candidates="--all --forget-port ${names}" ;;
        resource)
            if [[ ${COMP_CWORD} -eq 2 ]]; then
                candidates="add list show update delete healthcheck"
            else
                case "${subcommand}" in
                    add)
                        if [[ ${COMP_CWORD} -eq 3 ]]; then
                            candidates="azure-postgres-mi"
                        else
                            candidates="${_sdm_resource_flags}"
                        fi
                        ;;
                    update) candidates="${_sdm_resource_flags} ${_sdm_resource_negations} ${names}" ;;
                    list) candidates="--filter --json" ;;
                    show|delete|healthcheck) candidates="--json ${names}" ;;
                esac
            fi
            ;;
        user)
            if [[ ${COMP_CWORD} -eq 2 ]]; then
                candidates="add list delete rotate-token"
            else
                case "${subcommand}" in
                    add) candidates="--admin --role --json" ;;
                    *) candidates="--json" ;;
                esac
            fi
            ;;
        role)
            if [[ ${COMP_CWORD} -eq 2 ]]; then
                candidates="add delete grant revoke assign unassign list"
            else
                case "${subcommand}" in
                    grant|revoke) candidates="--resource --tags" ;;
                    add|list) candidates="--json" ;;
                esac
            fi
            ;;
        logs)
            if [[ ${COMP_CWORD} -eq 2 ]]; then
                candidates="connections queries"
            else
                candidates="--since --until --resource --user --limit --json --follow"
            fi
            ;;
        completion)
            [[ ${COMP_CWORD} -eq 2 ]] && candidates="bash zsh fish"
            ;;
    esac

    COMPREPLY=($(compgen -W "${candidates}" -- "${cur}"))
}

complete -F _sdm sdm
