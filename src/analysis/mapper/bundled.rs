//! The rule files compiled into the binary: every `.yml` file under `data/rules/`.
//!
//! A unit test checks that this list and the folder agree, so a rule added to the folder
//! and not listed here fails the build's tests.

/// (path under `data/rules/`, file text)
pub(super) const BUNDLED_RULES: &[(&str, &str)] = &[
    (
        "argus/argus_account_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_account_discovery.yml")),
    ),
    (
        "argus/argus_c2_port_connection.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_c2_port_connection.yml")),
    ),
    (
        "argus/argus_c2_port_web_request.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_c2_port_web_request.yml")),
    ),
    (
        "argus/argus_cron_persistence.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_cron_persistence.yml")),
    ),
    (
        "argus/argus_file_directory_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_file_directory_discovery.yml")),
    ),
    (
        "argus/argus_kerberos_preauth_failure.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_kerberos_preauth_failure.yml")),
    ),
    (
        "argus/argus_large_outbound_transfer.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_large_outbound_transfer.yml")),
    ),
    (
        "argus/argus_linux_account_creation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_account_creation.yml")),
    ),
    (
        "argus/argus_linux_account_manipulation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_account_manipulation.yml")),
    ),
    (
        "argus/argus_linux_cryptominer.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_cryptominer.yml")),
    ),
    (
        "argus/argus_linux_history_clearing.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_history_clearing.yml")),
    ),
    (
        "argus/argus_linux_obfuscated_command.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_obfuscated_command.yml")),
    ),
    (
        "argus/argus_linux_permission_change.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_permission_change.yml")),
    ),
    (
        "argus/argus_linux_privilege_escalation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_privilege_escalation.yml")),
    ),
    (
        "argus/argus_linux_service_persistence.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_service_persistence.yml")),
    ),
    (
        "argus/argus_linux_shadow_access.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_shadow_access.yml")),
    ),
    (
        "argus/argus_linux_tool_download.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_tool_download.yml")),
    ),
    (
        "argus/argus_linux_user_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_linux_user_discovery.yml")),
    ),
    (
        "argus/argus_logon_script_persistence.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_logon_script_persistence.yml")),
    ),
    (
        "argus/argus_mining_pool_dns.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_mining_pool_dns.yml")),
    ),
    (
        "argus/argus_mining_web_traffic.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_mining_web_traffic.yml")),
    ),
    (
        "argus/argus_network_config_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_network_config_discovery.yml")),
    ),
    (
        "argus/argus_network_connections_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_network_connections_discovery.yml")),
    ),
    (
        "argus/argus_network_service_scanning.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_network_service_scanning.yml")),
    ),
    (
        "argus/argus_powershell_encoded_command.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_powershell_encoded_command.yml")),
    ),
    (
        "argus/argus_process_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_process_discovery.yml")),
    ),
    (
        "argus/argus_python_command_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_python_command_execution.yml")),
    ),
    (
        "argus/argus_remote_system_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_remote_system_discovery.yml")),
    ),
    (
        "argus/argus_ssh_accepted_login.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_ssh_accepted_login.yml")),
    ),
    (
        "argus/argus_ssh_failed_password.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_ssh_failed_password.yml")),
    ),
    (
        "argus/argus_ssh_to_internal_host.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_ssh_to_internal_host.yml")),
    ),
    (
        "argus/argus_system_info_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_system_info_discovery.yml")),
    ),
    (
        "argus/argus_unix_shell_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_unix_shell_execution.yml")),
    ),
    (
        "argus/argus_web_attack_patterns.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_web_attack_patterns.yml")),
    ),
    (
        "argus/argus_web_scanner_user_agent.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_web_scanner_user_agent.yml")),
    ),
    (
        "argus/argus_windows_account_creation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_account_creation.yml")),
    ),
    (
        "argus/argus_windows_credential_dumping.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_credential_dumping.yml")),
    ),
    (
        "argus/argus_windows_log_clearing.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_log_clearing.yml")),
    ),
    (
        "argus/argus_windows_logon_failure.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_logon_failure.yml")),
    ),
    (
        "argus/argus_windows_lsass_access.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_lsass_access.yml")),
    ),
    (
        "argus/argus_windows_network_logon.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_network_logon.yml")),
    ),
    (
        "argus/argus_windows_permission_change.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_permission_change.yml")),
    ),
    (
        "argus/argus_windows_service_persistence.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_service_persistence.yml")),
    ),
    (
        "argus/argus_windows_shell_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_shell_execution.yml")),
    ),
    (
        "argus/argus_windows_tool_download.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_tool_download.yml")),
    ),
    (
        "argus/argus_windows_user_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/argus/argus_windows_user_discovery.yml")),
    ),
    (
        "sigma/file_event_win_bloodhound_collection.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/file_event_win_bloodhound_collection.yml")),
    ),
    (
        "sigma/file_event_win_lsass_default_dump_file_names.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/file_event_win_lsass_default_dump_file_names.yml")),
    ),
    (
        "sigma/file_event_win_susp_spool_drivers_color_drop.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/file_event_win_susp_spool_drivers_color_drop.yml")),
    ),
    (
        "sigma/lnx_auditd_susp_c2_commands.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_auditd_susp_c2_commands.yml")),
    ),
    (
        "sigma/lnx_auditd_system_info_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_auditd_system_info_discovery.yml")),
    ),
    (
        "sigma/lnx_clear_syslog.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_clear_syslog.yml")),
    ),
    (
        "sigma/lnx_cron_crontab_file_modification.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_cron_crontab_file_modification.yml")),
    ),
    (
        "sigma/lnx_privileged_user_creation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_privileged_user_creation.yml")),
    ),
    (
        "sigma/lnx_shell_clear_cmd_history.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_shell_clear_cmd_history.yml")),
    ),
    (
        "sigma/lnx_shell_susp_commands.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_shell_susp_commands.yml")),
    ),
    (
        "sigma/lnx_shell_susp_rev_shells.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_shell_susp_rev_shells.yml")),
    ),
    (
        "sigma/lnx_sshd_susp_ssh.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_sshd_susp_ssh.yml")),
    ),
    (
        "sigma/lnx_susp_dev_tcp.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/lnx_susp_dev_tcp.yml")),
    ),
    (
        "sigma/net_connection_lnx_crypto_mining_indicators.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/net_connection_lnx_crypto_mining_indicators.yml")),
    ),
    (
        "sigma/net_connection_lnx_susp_malware_callback_port.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/net_connection_lnx_susp_malware_callback_port.yml")),
    ),
    (
        "sigma/pipe_created_pua_paexec_default_pipe.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/pipe_created_pua_paexec_default_pipe.yml")),
    ),
    (
        "sigma/pipe_created_pua_remcom_default_pipe.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/pipe_created_pua_remcom_default_pipe.yml")),
    ),
    (
        "sigma/pipe_created_susp_malicious_namedpipes.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/pipe_created_susp_malicious_namedpipes.yml")),
    ),
    (
        "sigma/proc_creation_lnx_base64_decode.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_base64_decode.yml")),
    ),
    (
        "sigma/proc_creation_lnx_crontab_enumeration.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_crontab_enumeration.yml")),
    ),
    (
        "sigma/proc_creation_lnx_crypto_mining.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_crypto_mining.yml")),
    ),
    (
        "sigma/proc_creation_lnx_curl_wget_exec_tmp.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_curl_wget_exec_tmp.yml")),
    ),
    (
        "sigma/proc_creation_lnx_file_and_directory_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_file_and_directory_discovery.yml")),
    ),
    (
        "sigma/proc_creation_lnx_local_account.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_local_account.yml")),
    ),
    (
        "sigma/proc_creation_lnx_netcat_reverse_shell.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_netcat_reverse_shell.yml")),
    ),
    (
        "sigma/proc_creation_lnx_python_reverse_shell.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_python_reverse_shell.yml")),
    ),
    (
        "sigma/proc_creation_lnx_remote_system_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_remote_system_discovery.yml")),
    ),
    (
        "sigma/proc_creation_lnx_setgid_setuid.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_setgid_setuid.yml")),
    ),
    (
        "sigma/proc_creation_lnx_susp_history_delete.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_susp_history_delete.yml")),
    ),
    (
        "sigma/proc_creation_lnx_system_info_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_system_info_discovery.yml")),
    ),
    (
        "sigma/proc_creation_lnx_system_network_connections_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_system_network_connections_discovery.yml")),
    ),
    (
        "sigma/proc_creation_lnx_system_network_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_system_network_discovery.yml")),
    ),
    (
        "sigma/proc_creation_lnx_usermod_susp_group.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_lnx_usermod_susp_group.yml")),
    ),
    (
        "sigma/proc_creation_win_attrib_hiding_files.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_attrib_hiding_files.yml")),
    ),
    (
        "sigma/proc_creation_win_attrib_system_susp_paths.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_attrib_system_susp_paths.yml")),
    ),
    (
        "sigma/proc_creation_win_bitsadmin_potential_persistence.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_bitsadmin_potential_persistence.yml")),
    ),
    (
        "sigma/proc_creation_win_certutil_download.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_certutil_download.yml")),
    ),
    (
        "sigma/proc_creation_win_hktl_bloodhound_sharphound.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_hktl_bloodhound_sharphound.yml")),
    ),
    (
        "sigma/proc_creation_win_hktl_mimikatz_command_line.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_hktl_mimikatz_command_line.yml")),
    ),
    (
        "sigma/proc_creation_win_msxsl_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_msxsl_execution.yml")),
    ),
    (
        "sigma/proc_creation_win_msxsl_remote_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_msxsl_remote_execution.yml")),
    ),
    (
        "sigma/proc_creation_win_net_user_add.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_net_user_add.yml")),
    ),
    (
        "sigma/proc_creation_win_powershell_base64_encoded_cmd.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_powershell_base64_encoded_cmd.yml")),
    ),
    (
        "sigma/proc_creation_win_powershell_encode.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_powershell_encode.yml")),
    ),
    (
        "sigma/proc_creation_win_regsvr32_network_pattern.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_regsvr32_network_pattern.yml")),
    ),
    (
        "sigma/proc_creation_win_regsvr32_susp_exec_path_1.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_regsvr32_susp_exec_path_1.yml")),
    ),
    (
        "sigma/proc_creation_win_regsvr32_susp_extensions.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_regsvr32_susp_extensions.yml")),
    ),
    (
        "sigma/proc_creation_win_rundll32_process_dump_via_comsvcs.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_rundll32_process_dump_via_comsvcs.yml")),
    ),
    (
        "sigma/proc_creation_win_spoolsv_susp_child_processes.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_spoolsv_susp_child_processes.yml")),
    ),
    (
        "sigma/proc_creation_win_susp_eventlog_clear.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_susp_eventlog_clear.yml")),
    ),
    (
        "sigma/proc_creation_win_susp_lsass_dmp_cli_keywords.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_susp_lsass_dmp_cli_keywords.yml")),
    ),
    (
        "sigma/proc_creation_win_sysinternals_procdump_lsass.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_sysinternals_procdump_lsass.yml")),
    ),
    (
        "sigma/proc_creation_win_whoami_all_execution.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_whoami_all_execution.yml")),
    ),
    (
        "sigma/proc_creation_win_whoami_output.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_whoami_output.yml")),
    ),
    (
        "sigma/proc_creation_win_whoami_priv_discovery.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_creation_win_whoami_priv_discovery.yml")),
    ),
    (
        "sigma/proc_tampering_susp_process_hollowing.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/proc_tampering_susp_process_hollowing.yml")),
    ),
    (
        "sigma/registry_event_silentprocessexit_lsass.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/registry_event_silentprocessexit_lsass.yml")),
    ),
    (
        "sigma/win_alert_mimikatz_keywords.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_alert_mimikatz_keywords.yml")),
    ),
    (
        "sigma/win_bits_client_new_job_via_bitsadmin.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_bits_client_new_job_via_bitsadmin.yml")),
    ),
    (
        "sigma/win_bits_client_new_job_via_powershell.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_bits_client_new_job_via_powershell.yml")),
    ),
    (
        "sigma/win_bits_client_new_transfer_saving_susp_extensions.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_bits_client_new_transfer_saving_susp_extensions.yml")),
    ),
    (
        "sigma/win_bits_client_new_transfer_via_ip_address.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_bits_client_new_transfer_via_ip_address.yml")),
    ),
    (
        "sigma/win_security_metasploit_authentication.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_metasploit_authentication.yml")),
    ),
    (
        "sigma/win_security_possible_dc_shadow.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_possible_dc_shadow.yml")),
    ),
    (
        "sigma/win_security_successful_external_remote_rdp_login.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_successful_external_remote_rdp_login.yml")),
    ),
    (
        "sigma/win_security_successful_external_remote_smb_login.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_successful_external_remote_smb_login.yml")),
    ),
    (
        "sigma/win_security_susp_failed_logon_reasons.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_susp_failed_logon_reasons.yml")),
    ),
    (
        "sigma/win_security_susp_failed_logon_source.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_susp_failed_logon_source.yml")),
    ),
    (
        "sigma/win_security_susp_kerberos_manipulation.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_susp_kerberos_manipulation.yml")),
    ),
    (
        "sigma/win_security_susp_logon_newcredentials.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_security_susp_logon_newcredentials.yml")),
    ),
    (
        "sigma/win_system_eventlog_cleared.yml",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/rules/sigma/win_system_eventlog_cleared.yml")),
    ),
];
