# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run jada.agent.lightsail_instance_info inside the controller when the module would run there anyway.

The preflight reads Lightsail from the controller (delegate_to: localhost, with the controller's own Python). As a
module that read pays for packaging the module, a new Python process and its imports on every run; run here, it
pays only for importing boto3 and building the client. The work is the module's own code (module_utils/lightsail.py) on an AnsibleAWSModule,
so options, credential resolution, retries, messages and results are the same code as the module's.

Whatever could make the outcome differ sends the task to the module as usual: another connection than local,
become, async, environment variables for the task, another Python than the controller's, an ansible-core other
than 2.19, error tracebacks, kept remote files, botocore debug logs, and any warning or deprecation (all of them
come before the first request, so nothing is ever read twice).
"""

from __future__ import annotations

import json
import sys
import warnings

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as ModuleActionModule
from ansible.release import __version__ as ansible_core_version
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys


display = Display()

# How a module without METADATA exchanges its arguments and result with the controller.
SERIALIZATION_PROFILE = 'legacy'
# The ansible-core versions whose AnsibleModule formats results as the stand-in does (_return_formatted, fail_json)
# and whose controller reads them the same way; another version runs the module until it is checked too.
IN_PROCESS_CORES = frozenset([(2, 19)])


class ModuleNeeded(BaseException):
    """The task must run the module; the message says why.

    A BaseException, like SystemExit, so that no handler on the way takes it for an error of its own.
    """


class ModuleDone(BaseException):
    """How the stand-in's exit_json and fail_json end the run, as SystemExit ends a module; carries the result."""

    def __init__(self, result):
        super().__init__('module finished')
        self.result = result


def core_version(version=ansible_core_version):
    """(major, minor) of an ansible-core version string."""
    return tuple(int(part) for part in version.split('.')[:2])


def tracebacks_for_errors(display_traceback):
    """Whether DISPLAY_TRACEBACK puts tracebacks in error results, which a module process would then carry."""
    return bool({'error', 'always'} & set(display_traceback or ()))


def fallback_reason(facts):
    """Why the task must run the module (a phrase), or None when running it in the controller changes nothing.

    ``facts`` describes the execution: core_version, transport, become, background (async), environment,
    interpreter, controller_python, error_tracebacks, keep_remote_files.
    """
    if facts['core_version'] not in IN_PROCESS_CORES:
        return 'ansible-core %s is not a version the controller run is checked against' % '.'.join(
            map(str, facts['core_version']))
    if facts['transport'] != 'local':
        return "the connection is '%s', not local" % facts['transport']
    if facts['become']:
        return "become runs the module as another user, with that user's AWS configuration"
    if facts['background']:
        return 'async runs the module in the background'
    if facts['environment']:
        return 'the task sets environment variables for the module'
    if facts['interpreter'] != facts['controller_python']:
        return "the module's Python (%s) is not the controller's (%s)" % (facts['interpreter'], facts['controller_python'])
    if facts['error_tracebacks']:
        return 'error tracebacks are on, and they would come from the module process'
    if facts['keep_remote_files']:
        return 'remote files are kept for debugging'
    return None


def task_context(args, name, check_mode=False, diff=False):
    """What a module learns from the controller, and the no_log values its run finds (filled as it validates)."""
    return dict(args=args, name=name, check_mode=check_mode, diff=diff, no_log_values=set())


def formatted(result, params, no_log_values):
    """A module result as AnsibleModule returns it: with its invocation, no_log values masked, bools and None kept."""
    result = dict(result)
    result.setdefault('invocation', {'module_args': params})
    preserved = {key: value for key, value in result.items() if value is None or isinstance(value, bool)}
    result = remove_values(result, no_log_values)
    result.update(preserved)
    return result


def validation_message(errors, name):
    """AnsibleModule's message for the first of the option errors."""
    if isinstance(errors[0], UnsupportedError):
        return 'Unsupported parameters for (%s) module: %s' % (name, errors.msg)
    return errors.msg


class ControllerModule:
    """What AnsibleAWSModule and module_utils.lightsail use of AnsibleModule, inside the controller.

    AnsibleAWSModule builds it with the full argument spec (its AWS options added) and leaves validation, warnings
    and the end of the run to it. Options are checked by ansible-core's ArgumentSpecValidator, the one under
    AnsibleModule. exit_json and fail_json end the run with ModuleDone and the result formatted as AnsibleModule
    formats it with tracebacks off (fail_json's ``exception``, always a traceback string here, is dropped as
    AnsibleModule drops it). A warning or a deprecation would travel in the result as ansible-core's own message
    objects, so it sends the task to the module instead.
    """

    def __init__(self, context, argument_spec, mutually_exclusive=None, required_together=None, required_one_of=None,
                 required_if=None, required_by=None, supports_check_mode=False):
        self._name = context['name']
        self._diff = context['diff']
        self.check_mode = context['check_mode']
        self.no_log_values = context['no_log_values']
        self.supports_check_mode = supports_check_mode
        validated = ArgumentSpecValidator(argument_spec, mutually_exclusive, required_together, required_one_of,
                                          required_if, required_by).validate(context['args'])
        self.params = validated.validated_parameters
        self.no_log_values.update(validated._no_log_values)
        if validated._warnings or validated._deprecations:
            raise ModuleNeeded('the options draw a warning or a deprecation')
        if validated.error_messages:
            self.fail_json(msg=validation_message(validated.errors, self._name))
        if not supports_check_mode and self.check_mode:
            raise ModuleNeeded('the module does not support check mode')
        if self.params.get('debug_botocore_endpoint_logs'):
            raise ModuleNeeded('botocore debug logs are asked for')

    def warn(self, *args, **kwargs):
        raise ModuleNeeded('the module has a warning to report')

    def deprecate(self, *args, **kwargs):
        raise ModuleNeeded('the module has a deprecation to report')

    def exit_json(self, **kwargs):
        raise ModuleDone(formatted(kwargs, self.params, self.no_log_values))

    def fail_json(self, msg, *, exception=None, **kwargs):
        kwargs.update(failed=True, msg=str(msg))
        raise ModuleDone(formatted(kwargs, self.params, self.no_log_values))


def aws_module(aws_module_class, module_class, kwargs):
    """An AnsibleAWSModule whose AnsibleModule is ``module_class(**its arguments)``."""
    settings = aws_module_class.default_settings
    saved = settings['module_class']
    # AnsibleAWSModule takes its AnsibleModule class from this class-level setting, whatever its arguments say.
    settings['module_class'] = module_class
    try:
        return aws_module_class(**kwargs)
    finally:
        settings['module_class'] = saved


def run_in_controller(context):
    """The module's result, computed in this process: ModuleDone's result, or ModuleNeeded."""
    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
    from ansible_collections.jada.agent.plugins.module_utils.lightsail import module_kwargs, run

    try:
        with warnings.catch_warnings():
            # A module process prints Python warnings to a stderr nobody reads; here they would reach the terminal.
            warnings.simplefilter('ignore')
            run(aws_module(AnsibleAWSModule, lambda **kwargs: ControllerModule(context, **kwargs), module_kwargs()))
    except ModuleDone as done:
        return done.result
    except Exception as exc:
        # Not the module's behaviour but a fault here; its text may quote an option, so it is masked like a result.
        message = remove_values('%s: %s' % (type(exc).__name__, exc), context['no_log_values'])
        raise AnsibleActionFail('lightsail_instance_info failed in the controller: %s' % message) from None
    raise AnsibleActionFail('lightsail_instance_info ended without a result')


class ActionModule(ModuleActionModule):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        reason = fallback_reason(self._execution_facts(task_vars))
        if reason is None:
            try:
                return self._run_in_controller(tmp, task_vars)
            except ModuleNeeded as needed:
                reason = str(needed)
        display.vvv('%s runs as a module: %s' % (self._task.action, reason))
        return super(ActionModule, self).run(tmp, task_vars)

    def _execution_facts(self, task_vars):
        version = core_version()
        facts = dict(
            core_version=version,
            transport=getattr(self._connection, 'transport', None),
            become=bool(self._play_context.become),
            background=bool(self._task.async_val),
            controller_python=sys.executable,
            keep_remote_files=bool(C.DEFAULT_KEEP_REMOTE_FILES),
            environment=None,
            interpreter=None,
            error_tracebacks=False,
        )
        # Other versions may lack DISPLAY_TRACEBACK, and their answer does not need the rest.
        if version in IN_PROCESS_CORES:
            facts.update(environment=self._module_environment(), interpreter=self._module_python(task_vars),
                         error_tracebacks=tracebacks_for_errors(C.config.get_config_value('DISPLAY_TRACEBACK')))
        return facts

    def _module_environment(self):
        """The environment variables the module process would get on top of the controller's (the same merge)."""
        environment = {}
        self._compute_environment_string(environment)
        return environment

    def _module_python(self, task_vars):
        """The interpreter the module would run with, as _configure_module resolves it; None when undecided here."""
        try:
            variables = task_vars['ansible_delegated_vars'][self._task.delegate_to] if self._task.delegate_to \
                else task_vars
            return self._templar.template(C.config.get_config_value('INTERPRETER_PYTHON', variables=variables))
        except Exception:
            return None

    def _run_in_controller(self, tmp, task_vars):
        from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

        result = super(ModuleActionModule, self).run(tmp, task_vars)
        # Through the wire format, as the module's arguments and result travel: plain values, datetimes as text.
        args = json.loads(json.dumps(self._task.args,
                                     cls=get_module_encoder(SERIALIZATION_PROFILE, Direction.CONTROLLER_TO_MODULE)),
                          cls=get_module_decoder(SERIALIZATION_PROFILE, Direction.CONTROLLER_TO_MODULE))
        context = task_context(args, self._task.action, check_mode=bool(self._task.check_mode),
                               diff=bool(self._task.diff))
        returned = run_in_controller(context)
        display.vvv('%s ran in the controller' % self._task.action)
        stdout = json.dumps(returned, cls=get_module_encoder(SERIALIZATION_PROFILE, Direction.MODULE_TO_CONTROLLER))
        data = self._parse_returned_data(dict(stdout=stdout, stderr='', rc=1 if returned.get('failed') else 0),
                                         SERIALIZATION_PROFILE)
        remove_internal_keys(data)
        return merge_hash(result, data)
